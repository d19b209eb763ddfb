-- A unit of work sends its held-back writes and its commit in one round trip, so a write that must change exactly
-- one row (a state update checked against the version it read) is checked here: raising fails the statement, and
-- PostgreSQL skips the rest of the round trip, the commit included. CP001 is UnitOfWork.NotOneChangedRowState; the
-- constraint field names which checked write of the round trip it was ("write 0", "write 1", ...).
create function expect_one_changed_row(changed bigint, write_ordinal int) returns bigint
language plpgsql as $$
begin
    if changed <> 1 then
        raise exception 'expected one changed row, the write changed %', changed
            using errcode = 'CP001', constraint = 'write ' || write_ordinal;
    end if;
    return changed;
end
$$;
