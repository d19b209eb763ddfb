namespace ControlPlane.Policy.Bundles;

/// <summary>
/// The <c>track-record</c> block under <c>match:</c> (see <see cref="TrackRecordMatch"/>):
/// <code>
/// track-record: { window: 30d, verified-successes-at-least: 20, rollbacks-at-most: 0, failures-at-most: 2 }
/// track-record: { window: 30d, verified-successes-below: 20 }    # require approval until earned
/// track-record: { window: 30d, rollbacks-at-least: 1 }           # a rollback takes autonomy back
/// </code>
/// </summary>
public static partial class BundleParser
{
    public static readonly TimeSpan MaxTrackRecordWindow = TimeSpan.FromDays(365);
    public const int MaxTrackRecordCount = 1_000_000;

    private static readonly string[] TrackRecordKeys =
    [
        "window", "verified-successes-at-least", "verified-successes-below", "failures-at-most", "failures-at-least",
        "rollbacks-at-most", "rollbacks-at-least",
    ];

    private sealed partial class Reader
    {
        private TrackRecordMatch? ReadTrackRecord(YamlValue node, string path)
        {
            if (Map(node, path, "'track-record' must be a mapping such as { window: 30d, verified-successes-at-least: 20 }") is not { } record)
            {
                return null;
            }

            RejectUnknown(record, path, TrackRecordKeys);
            TimeSpan? window = null;
            if (Text(record, "window", path, required: true) is { } windowText)
            {
                window = ParseDuration(windowText);
                if (window is not { } w || w < TimeSpan.FromMinutes(1) || w > MaxTrackRecordWindow)
                {
                    Error(Get(record, "window")!, path + ".window", $"window '{windowText}' must be a duration such as 30d, 7d or 12h, at least 1m and at most 365d");
                    window = null;
                }
            }

            var successesAtLeast = Int(record, "verified-successes-at-least", path, 0, MaxTrackRecordCount);
            var successesBelow = Int(record, "verified-successes-below", path, 1, MaxTrackRecordCount);
            var failuresAtMost = Int(record, "failures-at-most", path, 0, MaxTrackRecordCount);
            var failuresAtLeast = Int(record, "failures-at-least", path, 1, MaxTrackRecordCount);
            var rollbacksAtMost = Int(record, "rollbacks-at-most", path, 0, MaxTrackRecordCount);
            var rollbacksAtLeast = Int(record, "rollbacks-at-least", path, 1, MaxTrackRecordCount);
            if (record.Entries.Count(e => e.Key.Value != "window" && TrackRecordKeys.Contains(e.Key.Value)) == 0)
            {
                Error(record, path, "'track-record' needs a count condition besides 'window' (verified-successes-at-least, verified-successes-below, failures-at-most, failures-at-least, rollbacks-at-most, rollbacks-at-least)");
            }

            Contradiction(record, path, "verified-successes-at-least", successesAtLeast, "verified-successes-below", successesBelow, successesBelow - 1);
            Contradiction(record, path, "failures-at-least", failuresAtLeast, "failures-at-most", failuresAtMost, failuresAtMost);
            Contradiction(record, path, "rollbacks-at-least", rollbacksAtLeast, "rollbacks-at-most", rollbacksAtMost, rollbacksAtMost);
            return window is { } span
                ? new TrackRecordMatch(span, successesAtLeast, successesBelow, failuresAtMost, failuresAtLeast, rollbacksAtMost, rollbacksAtLeast)
                : null;
        }

        /// <summary>A lower bound above the highest count an upper bound allows: the block could never hold.</summary>
        private void Contradiction(YamlMap record, string path, string lowerKey, int? lower, string upperKey, int? upper, int? highestAllowed)
        {
            if (lower > highestAllowed)
            {
                Error(record, path, $"{lowerKey} {lower} and {upperKey} {upper} can never both hold");
            }
        }
    }
}
