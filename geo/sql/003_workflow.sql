-- 003_workflow.sql — what the resolution workflow needs from the database.

-- Without WITH CHECK an UPDATE policy checks the new row with its USING
-- expression, so a utility that connects power (blocked_reason no_power ->
-- NULL) would break its own policy.  The new row must stay the actor's to
-- touch: the carrier's own assignment, a utility's area.
DROP POLICY assignments_update ON assignments;
CREATE POLICY assignments_update ON assignments FOR UPDATE USING (
    ctx_role() IN ('ministry', 'system')
    OR (ctx_role() = 'carrier' AND carrier_code = ctx_carrier())
    OR (ctx_role() = 'utility' AND blocked_reason = 'no_power'
        AND ctx_in_area(province_code, commune_code)))
WITH CHECK (
    ctx_role() IN ('ministry', 'system')
    OR (ctx_role() = 'carrier' AND carrier_code = ctx_carrier())
    OR (ctx_role() = 'utility' AND ctx_in_area(province_code, commune_code)));

-- A point's status follows its active assignments once it is assigned:
-- all fixed -> fixed; any in progress -> in_progress; any assigned ->
-- assigned; else blocked, with the first blocked reason.  It has to see every
-- assignment even when a carrier (who sees only its own) acts, so it runs
-- in the system context (set and restored here: PostgreSQL 15 lets only a
-- superuser put a custom setting in a function's SET clause; an error
-- rolls the transaction back, setting included).  It only derives: it takes
-- no input but the id.
CREATE FUNCTION point_apply(p_point bigint) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    s text;
    why text;
    caller text := coalesce(current_setting('lomsong.role', true), '');
BEGIN
    PERFORM set_config('lomsong.role', 'system', true);
    SELECT CASE WHEN count(*) = 0 THEN NULL
                WHEN bool_and(status IN ('fixed', 'verified')) THEN 'fixed'
                WHEN bool_or(status = 'in_progress') THEN 'in_progress'
                WHEN bool_or(status = 'assigned') THEN 'assigned'
                ELSE 'blocked' END
      INTO s FROM assignments WHERE point_id = p_point AND status <> 'withdrawn';
    IF s IS NULL THEN
        SELECT status INTO s FROM dz_points WHERE id = p_point;
        PERFORM set_config('lomsong.role', caller, true);
        RETURN s;
    END IF;
    SELECT blocked_reason INTO why FROM assignments
     WHERE point_id = p_point AND status = 'blocked' ORDER BY id LIMIT 1;
    UPDATE dz_points SET status = s,
           blocked_reason = CASE WHEN s = 'blocked' THEN why END,
           fixed_at = CASE WHEN s = 'fixed' THEN coalesce(fixed_at, now()) ELSE NULL END,
           due_date = (SELECT max(due_date) FROM assignments
                        WHERE point_id = p_point AND status NOT IN ('withdrawn', 'fixed', 'verified')),
           updated_at = now()
     WHERE id = p_point AND status IN ('assigned', 'in_progress', 'blocked', 'fixed', 'triaged',
                                       'reopened');
    PERFORM set_config('lomsong.role', caller, true);
    RETURN s;
END $$;
REVOKE ALL ON FUNCTION point_apply(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION point_apply(bigint) TO lomsong_app;

CREATE INDEX assignments_point_idx ON assignments (point_id);

-- A point's status and area for the event of a move: after some moves the
-- actor no longer sees the point (a utility, once power is connected).
CREATE FUNCTION point_state(p_point bigint, OUT status text, OUT province_code text,
                            OUT commune_code text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    caller text := coalesce(current_setting('lomsong.role', true), '');
BEGIN
    PERFORM set_config('lomsong.role', 'system', true);
    SELECT p.status, p.province_code, p.commune_code INTO status, province_code, commune_code
      FROM dz_points p WHERE p.id = p_point;
    PERFORM set_config('lomsong.role', caller, true);
END $$;
REVOKE ALL ON FUNCTION point_state(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION point_state(bigint) TO lomsong_app;

-- A utility connects power: the assignments blocked for no_power that it may
-- see (under its own context) go back to the carriers.  An UPDATE by the
-- utility itself cannot do it: the row it writes (no longer blocked for
-- power) is no longer one its SELECT policy shows, and PostgreSQL checks the
-- new row against that too.
CREATE FUNCTION power_connected(p_point bigint) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    caller text := coalesce(current_setting('lomsong.role', true), '');
    ids bigint[];
    n integer;
BEGIN
    IF caller <> 'utility' THEN
        RAISE EXCEPTION 'only a power utility connects power' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT array_agg(id) INTO ids FROM assignments
     WHERE point_id = p_point AND status = 'blocked' AND blocked_reason = 'no_power';
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM set_config('lomsong.role', 'system', true);
    UPDATE assignments SET status = 'in_progress', blocked_reason = NULL, updated_at = now()
     WHERE id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('lomsong.role', caller, true);
    RETURN n;
END $$;
REVOKE ALL ON FUNCTION power_connected(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION power_connected(bigint) TO lomsong_app;
