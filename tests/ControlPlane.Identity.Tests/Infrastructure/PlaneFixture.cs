using ControlPlane.Identity.Seeding;
using ControlPlane.Testing;

namespace ControlPlane.Identity.Tests.Infrastructure;

/// <summary>One <see cref="IdentityPlane"/> shared by the tests of a class (they use distinct principals).</summary>
public abstract class PlaneFixture : IAsyncLifetime
{
    public IdentityPlane Plane { get; private set; } = null!;

    protected virtual string Purpose => "identity";

    protected virtual bool WithPolicy => false;

    protected virtual IdentitySeed? Seed => null;

    protected virtual void Configure(PlaneSettings settings)
    {
    }

    public virtual async ValueTask InitializeAsync() => Plane = await IdentityPlane.StartAsync(Purpose, Seed, Configure, WithPolicy);

    public virtual async ValueTask DisposeAsync()
    {
        if (Plane is not null)
        {
            await Plane.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}

/// <summary>identity and policy, default settings.</summary>
public sealed class IdentityAndPolicy : PlaneFixture
{
    protected override string Purpose => "id-policy";

    protected override bool WithPolicy => true;
}
