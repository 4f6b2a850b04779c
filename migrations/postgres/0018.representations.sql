-- depends: 0017.web_sessions
-- Representations (projections/representations.py): who acts for which patient, so
-- that a legal representative's page lists the spaces they may act in. Display only:
-- whether they may act is decided on the space itself. Rebuildable from the events.
CREATE TABLE view_representations (
    space_id UUID NOT NULL,
    representative_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    since TIMESTAMPTZ NOT NULL,
    until TIMESTAMPTZ,
    ended_at TIMESTAMPTZ,
    PRIMARY KEY (space_id, representative_id)
);
CREATE INDEX view_representations_by_representative ON view_representations (representative_id);
