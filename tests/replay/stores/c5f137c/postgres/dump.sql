--
-- PostgreSQL database dump
--

\restrict vaoUe7eXipVKbzvuC4Lt2wvxiSYfpuomD1wL5q2TzXRd553aELZOPv3zXBnAB9T

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: stored_event_uuid; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.stored_event_uuid AS (
	originator_id uuid,
	originator_version bigint,
	topic text,
	state bytea
);


--
-- Name: coffre_refuse_event_change(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.coffre_refuse_event_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'coffre: events are append-only (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;


--
-- Name: es_insert_events_uuid(public.stored_event_uuid[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.es_insert_events_uuid(events public.stored_event_uuid[]) RETURNS SETOF bigint
    LANGUAGE plpgsql
    AS $$BEGIN    SET LOCAL lock_timeout = '5s';    NOTIFY "vault_events";    RETURN QUERY    INSERT INTO "public"."vault_events" AS t (    originator_id, originator_version, topic, state)    SELECT originator_id, originator_version, topic, state    FROM unnest(events)    RETURNING notification_id;END;$$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: _yoyo_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public._yoyo_log (
    id character varying(36) NOT NULL,
    migration_hash character varying(64),
    migration_id character varying(255),
    operation character varying(10),
    username character varying(255),
    hostname character varying(255),
    comment character varying(255),
    created_at_utc timestamp without time zone
);


--
-- Name: _yoyo_migration; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public._yoyo_migration (
    migration_hash character varying(64) NOT NULL,
    migration_id character varying(255),
    applied_at_utc timestamp without time zone
);


--
-- Name: _yoyo_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public._yoyo_version (
    version integer NOT NULL,
    installed_at_utc timestamp without time zone
);


--
-- Name: access_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.access_log (
    entry_id bigint NOT NULL,
    space_id uuid NOT NULL,
    at timestamp with time zone NOT NULL,
    actor_role text NOT NULL,
    actor_id text NOT NULL,
    actor_name text NOT NULL,
    actor_profession text,
    actor_organisation text,
    action text NOT NULL,
    document_id uuid,
    how text NOT NULL,
    outcome text NOT NULL,
    reason text,
    detail text NOT NULL
);


--
-- Name: access_log_documents; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.access_log_documents (
    document_id uuid NOT NULL,
    space_id uuid NOT NULL,
    title text NOT NULL,
    type text NOT NULL,
    held smallint DEFAULT 0 NOT NULL,
    secret smallint DEFAULT 0 NOT NULL
);


--
-- Name: access_log_grants; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.access_log_grants (
    grant_id uuid NOT NULL,
    space_id uuid NOT NULL,
    grantee_id text NOT NULL,
    grantee_name text NOT NULL
);


--
-- Name: coffre_space_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.coffre_space_keys (
    key_id text NOT NULL COLLATE pg_catalog."C",
    space_id uuid NOT NULL,
    public_key bytea NOT NULL,
    master_key_id text,
    wrapped_secret bytea,
    destroyed_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT coffre_space_keys_check CHECK (((master_key_id IS NULL) = (wrapped_secret IS NULL))),
    CONSTRAINT coffre_space_keys_check1 CHECK (((wrapped_secret IS NULL) = (destroyed_at IS NOT NULL))),
    CONSTRAINT coffre_space_keys_public_key_check CHECK ((octet_length(public_key) = 32))
);


--
-- Name: notification_acks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_acks (
    recipient_role text NOT NULL,
    recipient_id text NOT NULL,
    up_to bigint NOT NULL
);


--
-- Name: notification_readers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_readers (
    space_id uuid NOT NULL,
    reader_id text NOT NULL
);


--
-- Name: notification_spaces; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_spaces (
    space_id uuid NOT NULL,
    patient_id text NOT NULL
);


--
-- Name: notifications; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notifications (
    entry_id bigint NOT NULL,
    recipient_role text NOT NULL,
    recipient_id text NOT NULL,
    space_id uuid NOT NULL,
    kind text NOT NULL,
    at timestamp with time zone NOT NULL,
    actor_name text,
    actor_profession text,
    actor_organisation text,
    document_id uuid,
    detail text NOT NULL
);


--
-- Name: projection_failures; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.projection_failures (
    name text NOT NULL,
    notification_id bigint NOT NULL,
    error text NOT NULL,
    failed_at text NOT NULL
);


--
-- Name: trail_chains; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.trail_chains (
    chain text NOT NULL,
    bucket integer NOT NULL,
    head bigint NOT NULL
);


--
-- Name: trail_checkpoints; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.trail_checkpoints (
    size bigint NOT NULL,
    root bytea NOT NULL,
    at timestamp with time zone NOT NULL,
    key_id text NOT NULL,
    signature bytea NOT NULL
);


--
-- Name: trail_entries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.trail_entries (
    leaf_index bigint NOT NULL,
    notification_id bigint NOT NULL,
    space_id uuid,
    actor_role text,
    actor_id text,
    at timestamp with time zone NOT NULL,
    entry text NOT NULL,
    leaf_hash bytea NOT NULL
);


--
-- Name: trail_format; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.trail_format (
    id integer NOT NULL,
    v2_from bigint NOT NULL,
    CONSTRAINT trail_format_id_check CHECK ((id = 1))
);


--
-- Name: trail_heads; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.trail_heads (
    level smallint NOT NULL,
    idx bigint NOT NULL,
    hash bytea NOT NULL
);


--
-- Name: trail_nodes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.trail_nodes (
    level smallint NOT NULL,
    idx bigint NOT NULL,
    hash bytea NOT NULL
);


--
-- Name: vault_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.vault_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigint NOT NULL
)
WITH (autovacuum_enabled='true', autovacuum_vacuum_threshold='100000000', autovacuum_vacuum_scale_factor='0.5', autovacuum_analyze_threshold='1000', autovacuum_analyze_scale_factor='0.01');


--
-- Name: vault_events_notification_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.vault_events_notification_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: vault_events_notification_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.vault_events_notification_id_seq OWNED BY public.vault_events.notification_id;


--
-- Name: view_blocks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.view_blocks (
    space_id uuid NOT NULL,
    professional_id text NOT NULL
);


--
-- Name: view_documents; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.view_documents (
    document_id uuid NOT NULL,
    space_id uuid NOT NULL,
    type text NOT NULL,
    deleted integer DEFAULT 0 NOT NULL,
    masked integer DEFAULT 0 NOT NULL,
    held integer DEFAULT 0 NOT NULL,
    author_role text,
    author_id text,
    author_profession text,
    deleted_at timestamp with time zone,
    invisible_to_representatives integer DEFAULT 0 NOT NULL,
    visible_at timestamp with time zone,
    released_at timestamp with time zone
);


--
-- Name: view_emergencies; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.view_emergencies (
    access_id uuid NOT NULL,
    space_id uuid NOT NULL,
    professional_id text NOT NULL,
    professional_name text,
    professional_profession text,
    started_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    ended_at timestamp with time zone
);


--
-- Name: view_grants; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.view_grants (
    grant_id uuid NOT NULL,
    space_id uuid NOT NULL,
    grantee_id text NOT NULL,
    grantee_name text,
    grantee_profession text,
    scope_kind text NOT NULL,
    scope_types text NOT NULL,
    scope_documents text NOT NULL,
    granted_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone,
    revoked_at timestamp with time zone,
    care_team integer DEFAULT 0 NOT NULL
);


--
-- Name: view_space_settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.view_space_settings (
    space_id uuid NOT NULL,
    patient_id text NOT NULL,
    status text NOT NULL,
    emergency_forbidden integer DEFAULT 0 NOT NULL,
    emergency_reveals_masked integer DEFAULT 0 NOT NULL,
    attending_physician_sees_masked integer DEFAULT 0 NOT NULL,
    attending_physician_id text,
    opens_at timestamp with time zone
);


--
-- Name: view_tracking; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.view_tracking (
    application_name text NOT NULL,
    notification_id bigint
)
WITH (autovacuum_enabled='true', autovacuum_vacuum_threshold='100000000', autovacuum_vacuum_scale_factor='0.5', autovacuum_analyze_threshold='1000', autovacuum_analyze_scale_factor='0.01');


--
-- Name: yoyo_lock; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.yoyo_lock (
    locked integer DEFAULT 1 NOT NULL,
    ctime timestamp without time zone,
    pid integer NOT NULL
);


--
-- Name: vault_events notification_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.vault_events ALTER COLUMN notification_id SET DEFAULT nextval('public.vault_events_notification_id_seq'::regclass);


--
-- Data for Name: _yoyo_log; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public._yoyo_log (id, migration_hash, migration_id, operation, username, hostname, comment, created_at_utc) FROM stdin;
32a3537c-ef04-11f1-8359-02fc00000001	fa444466ce83e22d2a3a6a1e680b7677c2d90e2cc1ddc317897e21b65f495e33	0001.keystore	apply	root	localhost	\N	2026-12-03 10:27:53.367075
32a86cea-ef04-11f1-8359-02fc00000001	ddeb27cd9e96ccf4321cd47d6c9ba029d79ec2c07e73956cd37bc22bbc327f92	0002.access_log	apply	root	localhost	\N	2026-12-03 10:27:53.400442
32aedb7a-ef04-11f1-8359-02fc00000001	016a760d02a389d914f35a14c60e27dae4cca4f60ee25de8067e01c4e505b10e	0003.trail	apply	root	localhost	\N	2026-12-03 10:27:53.442596
32b208d6-ef04-11f1-8359-02fc00000001	2edf5a4de555ed4d2b0bd9469a15d456e4476ae73413f5c95b7029ac21c37314	0004.append_only_events	apply	root	localhost	\N	2026-12-03 10:27:53.463479
32b659ea-ef04-11f1-8359-02fc00000001	4e2c44b8771a7a868dfe3ddccd23c3f4a9ab8a8c6fa221e32f32f8b8ac60e948	0005.access_rules	apply	root	localhost	\N	2026-12-03 10:27:53.491706
32bd1424-ef04-11f1-8359-02fc00000001	83925fb386e20412863ddca366485a943bd4b25ecfdb646a26589414321f0b92	0006.notifications	apply	root	localhost	\N	2026-12-03 10:27:53.535801
32c6f462-ef04-11f1-8359-02fc00000001	ecf5aaeec1a99a582818c071db6b77613d93c90f9f7db2f5b689fc6007c0e169	0007.access_views	apply	root	localhost	\N	2026-12-03 10:27:53.600871
32cb5fde-ef04-11f1-8359-02fc00000001	7ca2e0924beef1097b19d64088fc36ec27a11f58d0b0e9710f35c4273da9f561	0008.access_log_page	apply	root	localhost	\N	2026-12-03 10:27:53.629472
32cea3a6-ef04-11f1-8359-02fc00000001	5efb0b41716f9ae58c7a44d95ba6403119a19703ce79e23f500f458294c03cd0	0009.projection_failures	apply	root	localhost	\N	2026-12-03 10:27:53.650892
32d2c486-ef04-11f1-8359-02fc00000001	e2076bd0b7c11f590f69b3655fc3cc99999f11f40296517e6712f2593391fe16	0010.trail_heads	apply	root	localhost	\N	2026-12-03 10:27:53.67794
32d5a160-ef04-11f1-8359-02fc00000001	e930f5b19d3109cc6065db04076c0c1cb4ace33a1e47672c501b2adc9304a766	0011.access_view_facts	apply	root	localhost	\N	2026-12-03 10:27:53.697165
\.


--
-- Data for Name: _yoyo_migration; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public._yoyo_migration (migration_hash, migration_id, applied_at_utc) FROM stdin;
fa444466ce83e22d2a3a6a1e680b7677c2d90e2cc1ddc317897e21b65f495e33	0001.keystore	2026-12-03 10:27:53.372318
ddeb27cd9e96ccf4321cd47d6c9ba029d79ec2c07e73956cd37bc22bbc327f92	0002.access_log	2026-12-03 10:27:53.404729
016a760d02a389d914f35a14c60e27dae4cca4f60ee25de8067e01c4e505b10e	0003.trail	2026-12-03 10:27:53.447578
2edf5a4de555ed4d2b0bd9469a15d456e4476ae73413f5c95b7029ac21c37314	0004.append_only_events	2026-12-03 10:27:53.46884
4e2c44b8771a7a868dfe3ddccd23c3f4a9ab8a8c6fa221e32f32f8b8ac60e948	0005.access_rules	2026-12-03 10:27:53.497082
83925fb386e20412863ddca366485a943bd4b25ecfdb646a26589414321f0b92	0006.notifications	2026-12-03 10:27:53.545292
ecf5aaeec1a99a582818c071db6b77613d93c90f9f7db2f5b689fc6007c0e169	0007.access_views	2026-12-03 10:27:53.603204
7ca2e0924beef1097b19d64088fc36ec27a11f58d0b0e9710f35c4273da9f561	0008.access_log_page	2026-12-03 10:27:53.63106
5efb0b41716f9ae58c7a44d95ba6403119a19703ce79e23f500f458294c03cd0	0009.projection_failures	2026-12-03 10:27:53.652033
e2076bd0b7c11f590f69b3655fc3cc99999f11f40296517e6712f2593391fe16	0010.trail_heads	2026-12-03 10:27:53.678917
e930f5b19d3109cc6065db04076c0c1cb4ace33a1e47672c501b2adc9304a766	0011.access_view_facts	2026-12-03 10:27:53.700721
\.


--
-- Data for Name: _yoyo_version; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public._yoyo_version (version, installed_at_utc) FROM stdin;
2	2026-12-03 10:27:53.212102
\.


--
-- Data for Name: access_log; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.access_log (entry_id, space_id, at, actor_role, actor_id, actor_name, actor_profession, actor_organisation, action, document_id, how, outcome, reason, detail) FROM stdin;
1	d05832f4-3ead-56f8-b045-1de0bbbad76b	2026-03-02 09:00:00+00	service	chu-lyon	CHU de Lyon	\N	CHU de Lyon	provision	\N	normal	allowed	\N	{}
4	b24810b0-51ed-5692-99c6-61de468f2b5a	2026-03-02 09:00:00+00	service	chu-lyon	CHU de Lyon	\N	CHU de Lyon	provision	\N	normal	allowed	\N	{}
7	31837967-4893-5136-b58c-71b7582f2aac	2026-03-02 09:00:00+00	service	chu-lyon	CHU de Lyon	\N	CHU de Lyon	provision	\N	normal	allowed	\N	{}
18	d05832f4-3ead-56f8-b045-1de0bbbad76b	2026-04-13 09:01:00+00	service	chu-lyon	CHU de Lyon	\N	CHU de Lyon	deposit	bf0d65c5-12d2-4e06-aec2-144ad044040d	normal	allowed	\N	{"version": 1}
19	d05832f4-3ead-56f8-b045-1de0bbbad76b	2026-04-13 09:01:00+00	service	chu-lyon	CHU de Lyon	\N	CHU de Lyon	deposit	346a6c15-ca05-4428-bd50-15d57594e927	normal	allowed	\N	{"version": 1}
20	b24810b0-51ed-5692-99c6-61de468f2b5a	2026-04-13 09:01:00+00	service	chu-lyon	CHU de Lyon	\N	CHU de Lyon	deposit	6b72fedb-6ec0-4942-b0b9-3b7541f72539	normal	allowed	\N	{"version": 1}
21	b24810b0-51ed-5692-99c6-61de468f2b5a	2026-04-13 09:01:00+00	service	chu-lyon	CHU de Lyon	\N	CHU de Lyon	deposit	d747d938-6209-4f3f-8e67-5866c72e6cd1	normal	allowed	\N	{"version": 1}
22	31837967-4893-5136-b58c-71b7582f2aac	2026-04-13 09:01:00+00	service	chu-lyon	CHU de Lyon	\N	CHU de Lyon	deposit	b57c95cb-875a-4c4f-9aab-71f6c39b5a52	normal	allowed	\N	{"version": 1}
23	31837967-4893-5136-b58c-71b7582f2aac	2026-04-13 09:01:00+00	service	chu-lyon	CHU de Lyon	\N	CHU de Lyon	deposit	11dd9eb5-8e00-4846-9fc6-4f07effa13e2	normal	allowed	\N	{"version": 1}
24	d05832f4-3ead-56f8-b045-1de0bbbad76b	2026-04-13 09:01:00+00	patient	287067500030103	Patient 103	\N	\N	grant	\N	normal	allowed	\N	{"expires_at": null, "grant_id": "e5f42d69-d31a-4a43-9062-4a37c007ef10", "grantee": {"id": "10000000116", "name": "Dr Durand", "organisation": "Cabinet", "profession": "doctor", "role": "professional"}, "scope": {"documents": [], "kind": "space", "types": []}}
25	d05832f4-3ead-56f8-b045-1de0bbbad76b	2026-04-13 10:01:00+00	professional	10000000116	Dr Durand	doctor	Cabinet	read	bf0d65c5-12d2-4e06-aec2-144ad044040d	normal	allowed	\N	{"basis": "grant", "version": 1}
26	31837967-4893-5136-b58c-71b7582f2aac	2026-04-13 10:01:00+00	patient	185057500030336	Patient 336	\N	\N	close	\N	normal	allowed	\N	{"archive_until": "2036-04-13T10:01:00+00:00", "deletion_due_at": "2026-04-13T10:01:00+00:00", "express_deletion": true}
27	31837967-4893-5136-b58c-71b7582f2aac	2026-04-13 10:01:00+00	service	coffre-scheduler	Coffre scheduler	\N	\N	delete_space	\N	normal	allowed	\N	{}
\.


--
-- Data for Name: access_log_documents; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.access_log_documents (document_id, space_id, title, type, held, secret) FROM stdin;
bf0d65c5-12d2-4e06-aec2-144ad044040d	d05832f4-3ead-56f8-b045-1de0bbbad76b	Bilan sanguin	lab_result	0	0
346a6c15-ca05-4428-bd50-15d57594e927	d05832f4-3ead-56f8-b045-1de0bbbad76b	Bilan sanguin	lab_result	0	0
6b72fedb-6ec0-4942-b0b9-3b7541f72539	b24810b0-51ed-5692-99c6-61de468f2b5a	Bilan sanguin	lab_result	0	0
d747d938-6209-4f3f-8e67-5866c72e6cd1	b24810b0-51ed-5692-99c6-61de468f2b5a	Bilan sanguin	lab_result	0	0
b57c95cb-875a-4c4f-9aab-71f6c39b5a52	31837967-4893-5136-b58c-71b7582f2aac	Bilan sanguin	lab_result	0	0
11dd9eb5-8e00-4846-9fc6-4f07effa13e2	31837967-4893-5136-b58c-71b7582f2aac	Bilan sanguin	lab_result	0	0
\.


--
-- Data for Name: access_log_grants; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.access_log_grants (grant_id, space_id, grantee_id, grantee_name) FROM stdin;
e5f42d69-d31a-4a43-9062-4a37c007ef10	d05832f4-3ead-56f8-b045-1de0bbbad76b	10000000116	Dr Durand
\.


--
-- Data for Name: coffre_space_keys; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.coffre_space_keys (key_id, space_id, public_key, master_key_id, wrapped_secret, destroyed_at, created_at) FROM stdin;
spk_8647aa2fcc2d4422b6e18ff5bd45e360	d05832f4-3ead-56f8-b045-1de0bbbad76b	\\xc69daf532a43fffaf8fa89908d8e6bdf5ca8d6cad422f260c5c0b00772bc1400	mk-20261203-41147ab0	\\x1a99ef6af5b1669ae20b089223480c0d8d38b728b3bf02313c9e33aca9c2573aac89748d324369cdf38243a7d65a51078ed1ba3b263122671daf788a3f2f61cd2cf6aa3e12204368	\N	2026-12-03 10:27:53.727186+00
spk_8e6459a392804d3694700f34a8f4c3d9	b24810b0-51ed-5692-99c6-61de468f2b5a	\\x31451b78cf5d6168d4619e3431ef12dcfac203c1d8c6aec65bfdabfbb778f445	mk-20261203-41147ab0	\\x1d83050702e380c1487914be66597050007c82d8c038bd1cc4516daf1518bb449dadf178d7327d74bd2654e346d433a77f5aff080df1f43499ef5c0374aa6c111679d0136360db84	\N	2026-12-03 10:27:53.769721+00
spk_2b67ea8c392442e2b1127c9c6dcc1bd5	31837967-4893-5136-b58c-71b7582f2aac	\\x3bfc100a6625e4c66cd5c066f0f4d2b84aeb92b9b2a0d8671f9ff41e49da2b06	\N	\N	2026-04-13 10:01:00+00	2026-12-03 10:27:53.80556+00
\.


--
-- Data for Name: notification_acks; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.notification_acks (recipient_role, recipient_id, up_to) FROM stdin;
\.


--
-- Data for Name: notification_readers; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.notification_readers (space_id, reader_id) FROM stdin;
d05832f4-3ead-56f8-b045-1de0bbbad76b	10000000116
\.


--
-- Data for Name: notification_spaces; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.notification_spaces (space_id, patient_id) FROM stdin;
d05832f4-3ead-56f8-b045-1de0bbbad76b	287067500030103
b24810b0-51ed-5692-99c6-61de468f2b5a	185057500030237
31837967-4893-5136-b58c-71b7582f2aac	185057500030336
\.


--
-- Data for Name: notifications; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.notifications (entry_id, recipient_role, recipient_id, space_id, kind, at, actor_name, actor_profession, actor_organisation, document_id, detail) FROM stdin;
18	patient	287067500030103	d05832f4-3ead-56f8-b045-1de0bbbad76b	new_document	2026-04-13 09:01:00+00	CHU de Lyon	\N	CHU de Lyon	bf0d65c5-12d2-4e06-aec2-144ad044040d	{}
19	patient	287067500030103	d05832f4-3ead-56f8-b045-1de0bbbad76b	new_document	2026-04-13 09:01:00+00	CHU de Lyon	\N	CHU de Lyon	346a6c15-ca05-4428-bd50-15d57594e927	{}
20	patient	185057500030237	b24810b0-51ed-5692-99c6-61de468f2b5a	new_document	2026-04-13 09:01:00+00	CHU de Lyon	\N	CHU de Lyon	6b72fedb-6ec0-4942-b0b9-3b7541f72539	{}
21	patient	185057500030237	b24810b0-51ed-5692-99c6-61de468f2b5a	new_document	2026-04-13 09:01:00+00	CHU de Lyon	\N	CHU de Lyon	d747d938-6209-4f3f-8e67-5866c72e6cd1	{}
22	patient	185057500030336	31837967-4893-5136-b58c-71b7582f2aac	new_document	2026-04-13 09:01:00+00	CHU de Lyon	\N	CHU de Lyon	b57c95cb-875a-4c4f-9aab-71f6c39b5a52	{}
23	patient	185057500030336	31837967-4893-5136-b58c-71b7582f2aac	new_document	2026-04-13 09:01:00+00	CHU de Lyon	\N	CHU de Lyon	11dd9eb5-8e00-4846-9fc6-4f07effa13e2	{}
25	patient	287067500030103	d05832f4-3ead-56f8-b045-1de0bbbad76b	new_professional	2026-04-13 10:01:00+00	Dr Durand	doctor	Cabinet	\N	{}
\.


--
-- Data for Name: projection_failures; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.projection_failures (name, notification_id, error, failed_at) FROM stdin;
\.


--
-- Data for Name: trail_chains; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.trail_chains (chain, bucket, head) FROM stdin;
b24810b0-51ed-5692-99c6-61de468f2b5a	29888	20
patient:185057500030237	30285	14
patient:287067500030103	9729	23
service:chu-lyon	30821	22
31837967-4893-5136-b58c-71b7582f2aac	49693	26
d05832f4-3ead-56f8-b045-1de0bbbad76b	1151	24
patient:185057500030336	30175	25
professional:10000000116	43299	24
service:coffre-scheduler	18332	26
\.


--
-- Data for Name: trail_checkpoints; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.trail_checkpoints (size, root, at, key_id, signature) FROM stdin;
24	\\x1f946bdddfefb075d4bd8b624004dcef24d0d95c92d6d4955b8f6106431e6cda	2026-04-13 09:01:00+00	3d573c548fdef59f	\\x5a8305a59aa773ce4a06e8f0f62c8c97293ee8eab7e80ec76092e760003ce5424a06b86422b95fdc92550d33776528d9eaf46f4864813392e199793af882da0c
27	\\xe7b1b5212ca28f677ddf9808ae76256684661ed653633668ac9897b0ae086ead	2026-04-13 10:06:00+00	3d573c548fdef59f	\\x7ff3268cec83c4ea7b2af343b7a47128f543b165713e8027d26967f6aba3a2a495786445b4a4688c3091e7200522355770615911344b1162718a067401534d0b
\.


--
-- Data for Name: trail_entries; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.trail_entries (leaf_index, notification_id, space_id, actor_role, actor_id, at, entry, leaf_hash) FROM stdin;
0	1	d05832f4-3ead-56f8-b045-1de0bbbad76b	service	chu-lyon	2026-03-02 09:00:00+00	{"actor":{"id":"chu-lyon","name":"CHU de Lyon","organisation":"CHU de Lyon","profession":null,"role":"service"},"actor_prev":null,"actor_prev_leaf":null,"at":"2026-03-02T09:00:00.000000Z","details":{"key_id":"spk_8647aa2fcc2d4422b6e18ff5bd45e360","patient_id":"287067500030103"},"event":"Space.Provisioned","event_digest":"f3a9dcced5927b85302b074748a22ce5347824b3c2a01cb17d415c6dfef846d0","heads":"0ecbb5bdd4d063461e5be2c6e1a7532966ff2f803104a629aa2b04577397de05","leaf_index":0,"notification_id":1,"originator_id":"d05832f4-3ead-56f8-b045-1de0bbbad76b","originator_version":1,"prev":null,"space_id":"d05832f4-3ead-56f8-b045-1de0bbbad76b","space_prev":null,"space_prev_leaf":null,"v":2}	\\x3187af78780ada7add380871fa00d3c9de0268cab791756be42db902f5e5e6cd
1	2	d05832f4-3ead-56f8-b045-1de0bbbad76b	service	chu-lyon	2026-03-02 09:00:00+00	{"actor":{"id":"chu-lyon","name":"CHU de Lyon","organisation":"CHU de Lyon","profession":null,"role":"service"},"actor_prev":"3187af78780ada7add380871fa00d3c9de0268cab791756be42db902f5e5e6cd","actor_prev_leaf":0,"at":"2026-03-02T09:00:00.000000Z","details":{},"event":"Space.CodeIssued","event_digest":"a5416bcb90d568e526133b85bc141f5e65910434591dd9753185d307157171f2","heads":"7e855a675655fcf24ae6dfd13d7dfdd5e676773b3f87ca1330d24e52c8b616b8","leaf_index":1,"notification_id":2,"originator_id":"d05832f4-3ead-56f8-b045-1de0bbbad76b","originator_version":2,"prev":"3187af78780ada7add380871fa00d3c9de0268cab791756be42db902f5e5e6cd","space_id":"d05832f4-3ead-56f8-b045-1de0bbbad76b","space_prev":"3187af78780ada7add380871fa00d3c9de0268cab791756be42db902f5e5e6cd","space_prev_leaf":0,"v":2}	\\xc4dd16c065d8db5af145b8708df30c6b6bdab6a93accec8b1531552e51e2031b
2	3	d05832f4-3ead-56f8-b045-1de0bbbad76b	service	chu-lyon	2026-03-02 09:00:00+00	{"actor":{"id":"chu-lyon","name":"CHU de Lyon","organisation":"CHU de Lyon","profession":null,"role":"service"},"actor_prev":"c4dd16c065d8db5af145b8708df30c6b6bdab6a93accec8b1531552e51e2031b","actor_prev_leaf":1,"at":"2026-03-02T09:00:00.000000Z","details":{"opens_at":"2026-04-13T09:00:00.000000Z"},"event":"Space.OpeningScheduled","event_digest":"f144e2dcb0be55789c987b0579898e7787f6ee6bed1caee8444eec9df1a90d4f","heads":"d9dbbf4fa93ee52ca8af6be8a37fb7b388c0f6fc72b4bb5ab7abbb7bc6376d4a","leaf_index":2,"notification_id":3,"originator_id":"d05832f4-3ead-56f8-b045-1de0bbbad76b","originator_version":3,"prev":"c4dd16c065d8db5af145b8708df30c6b6bdab6a93accec8b1531552e51e2031b","space_id":"d05832f4-3ead-56f8-b045-1de0bbbad76b","space_prev":"c4dd16c065d8db5af145b8708df30c6b6bdab6a93accec8b1531552e51e2031b","space_prev_leaf":1,"v":2}	\\xd5a1f74a7984953a55d78afe270ab109302bb9e9f634d82f1f34d25dbb14d9fd
3	4	b24810b0-51ed-5692-99c6-61de468f2b5a	service	chu-lyon	2026-03-02 09:00:00+00	{"actor":{"id":"chu-lyon","name":"CHU de Lyon","organisation":"CHU de Lyon","profession":null,"role":"service"},"actor_prev":"d5a1f74a7984953a55d78afe270ab109302bb9e9f634d82f1f34d25dbb14d9fd","actor_prev_leaf":2,"at":"2026-03-02T09:00:00.000000Z","details":{"key_id":"spk_8e6459a392804d3694700f34a8f4c3d9","patient_id":"185057500030237"},"event":"Space.Provisioned","event_digest":"b049bf38c24f92f62a7f6dff05630981afaa78403da21b42ad4f05d540bd2dfc","heads":"c56d50a4d6bfa1491fe09b9d3140c01df372608d043877a5e20741424390408d","leaf_index":3,"notification_id":4,"originator_id":"b24810b0-51ed-5692-99c6-61de468f2b5a","originator_version":1,"prev":"d5a1f74a7984953a55d78afe270ab109302bb9e9f634d82f1f34d25dbb14d9fd","space_id":"b24810b0-51ed-5692-99c6-61de468f2b5a","space_prev":null,"space_prev_leaf":null,"v":2}	\\x524f46e638f79e6ea23071cf161f4006eb3becf7685c8a57d1738c4de3cd062f
4	5	b24810b0-51ed-5692-99c6-61de468f2b5a	service	chu-lyon	2026-03-02 09:00:00+00	{"actor":{"id":"chu-lyon","name":"CHU de Lyon","organisation":"CHU de Lyon","profession":null,"role":"service"},"actor_prev":"524f46e638f79e6ea23071cf161f4006eb3becf7685c8a57d1738c4de3cd062f","actor_prev_leaf":3,"at":"2026-03-02T09:00:00.000000Z","details":{},"event":"Space.CodeIssued","event_digest":"8480caa6b96c8348c178b986b27bed2ae60638afbd69b20e78cd1debac93538b","heads":"9c2f67c32175b450a02ddc43d950ab96b538906664c283bec78c0c932d3db249","leaf_index":4,"notification_id":5,"originator_id":"b24810b0-51ed-5692-99c6-61de468f2b5a","originator_version":2,"prev":"524f46e638f79e6ea23071cf161f4006eb3becf7685c8a57d1738c4de3cd062f","space_id":"b24810b0-51ed-5692-99c6-61de468f2b5a","space_prev":"524f46e638f79e6ea23071cf161f4006eb3becf7685c8a57d1738c4de3cd062f","space_prev_leaf":3,"v":2}	\\xec8264363b7a8a65b8cb476edf70e99b1c74c430394242eec7ce6dcb6e8c7101
5	6	b24810b0-51ed-5692-99c6-61de468f2b5a	service	chu-lyon	2026-03-02 09:00:00+00	{"actor":{"id":"chu-lyon","name":"CHU de Lyon","organisation":"CHU de Lyon","profession":null,"role":"service"},"actor_prev":"ec8264363b7a8a65b8cb476edf70e99b1c74c430394242eec7ce6dcb6e8c7101","actor_prev_leaf":4,"at":"2026-03-02T09:00:00.000000Z","details":{"opens_at":"2026-04-13T09:00:00.000000Z"},"event":"Space.OpeningScheduled","event_digest":"f9ade28e76cfb8ee30c7815276d6dc291a93735323936bdd6069af724ec3c503","heads":"45dc25441784eed766a87420e23f8075fd6cfa7c2092c00d03687e173d94f8a8","leaf_index":5,"notification_id":6,"originator_id":"b24810b0-51ed-5692-99c6-61de468f2b5a","originator_version":3,"prev":"ec8264363b7a8a65b8cb476edf70e99b1c74c430394242eec7ce6dcb6e8c7101","space_id":"b24810b0-51ed-5692-99c6-61de468f2b5a","space_prev":"ec8264363b7a8a65b8cb476edf70e99b1c74c430394242eec7ce6dcb6e8c7101","space_prev_leaf":4,"v":2}	\\xbb48300f123aa5da5f69cdcf0988410f04143399ae8c2e70ff0bb95fdd7efac5
6	7	31837967-4893-5136-b58c-71b7582f2aac	service	chu-lyon	2026-03-02 09:00:00+00	{"actor":{"id":"chu-lyon","name":"CHU de Lyon","organisation":"CHU de Lyon","profession":null,"role":"service"},"actor_prev":"bb48300f123aa5da5f69cdcf0988410f04143399ae8c2e70ff0bb95fdd7efac5","actor_prev_leaf":5,"at":"2026-03-02T09:00:00.000000Z","details":{"key_id":"spk_2b67ea8c392442e2b1127c9c6dcc1bd5","patient_id":"185057500030336"},"event":"Space.Provisioned","event_digest":"bd97ab5aa0d85daae80db3724859d33ef0f57f403a25a0bc03523e6481365d36","heads":"fc73b4698d320af259b111cceb072b04fa11cd4308ad52b21bd4e9a41de3d092","leaf_index":6,"notification_id":7,"originator_id":"31837967-4893-5136-b58c-71b7582f2aac","originator_version":1,"prev":"bb48300f123aa5da5f69cdcf0988410f04143399ae8c2e70ff0bb95fdd7efac5","space_id":"31837967-4893-5136-b58c-71b7582f2aac","space_prev":null,"space_prev_leaf":null,"v":2}	\\x6d8b7c67e929e83d4db7b3d8e42b8e1e42095c19e3a965fc398035d076c4b70e
7	8	31837967-4893-5136-b58c-71b7582f2aac	service	chu-lyon	2026-03-02 09:00:00+00	{"actor":{"id":"chu-lyon","name":"CHU de Lyon","organisation":"CHU de Lyon","profession":null,"role":"service"},"actor_prev":"6d8b7c67e929e83d4db7b3d8e42b8e1e42095c19e3a965fc398035d076c4b70e","actor_prev_leaf":6,"at":"2026-03-02T09:00:00.000000Z","details":{},"event":"Space.CodeIssued","event_digest":"8e857798f9885b671600db9fcdcb90e44380e3435f13362ed2b87a428a2c9966","heads":"080d789e75b6a5af29930836851ba57a164c5759ddf628f39653ee4ec72be1a2","leaf_index":7,"notification_id":8,"originator_id":"31837967-4893-5136-b58c-71b7582f2aac","originator_version":2,"prev":"6d8b7c67e929e83d4db7b3d8e42b8e1e42095c19e3a965fc398035d076c4b70e","space_id":"31837967-4893-5136-b58c-71b7582f2aac","space_prev":"6d8b7c67e929e83d4db7b3d8e42b8e1e42095c19e3a965fc398035d076c4b70e","space_prev_leaf":6,"v":2}	\\x22ffcf318d2a8ebef888a9efb01c266f62e2b560fbdbd55c78d2674f6b91ba87
8	9	31837967-4893-5136-b58c-71b7582f2aac	service	chu-lyon	2026-03-02 09:00:00+00	{"actor":{"id":"chu-lyon","name":"CHU de Lyon","organisation":"CHU de Lyon","profession":null,"role":"service"},"actor_prev":"22ffcf318d2a8ebef888a9efb01c266f62e2b560fbdbd55c78d2674f6b91ba87","actor_prev_leaf":7,"at":"2026-03-02T09:00:00.000000Z","details":{"opens_at":"2026-04-13T09:00:00.000000Z"},"event":"Space.OpeningScheduled","event_digest":"68e2f1c45735e148da8c7ab81f55de47f5b3a894c1a600cac3908688ccdbfa98","heads":"ec6fafc064c6515ef9c79190d19dd008363b0582406a7ac2b30b6a633feb1613","leaf_index":8,"notification_id":9,"originator_id":"31837967-4893-5136-b58c-71b7582f2aac","originator_version":3,"prev":"22ffcf318d2a8ebef888a9efb01c266f62e2b560fbdbd55c78d2674f6b91ba87","space_id":"31837967-4893-5136-b58c-71b7582f2aac","space_prev":"22ffcf318d2a8ebef888a9efb01c266f62e2b560fbdbd55c78d2674f6b91ba87","space_prev_leaf":7,"v":2}	\\x92032620d77c1643f26a6bfbb00ab4ceedc32bdd54a4d3181024f6d6f7fc6c89
9	10	\N	professional	10000000116	2026-12-03 10:27:53.830073+00	{"actor":{"id":"10000000116","name":null,"organisation":null,"profession":null,"role":"professional"},"actor_prev":null,"actor_prev_leaf":null,"at":"2026-12-03T10:27:53.830073Z","details":{"actor_id":"10000000116","role":"professional"},"event":"Reader.Created","event_digest":"77ac6d33355040c95a4de6b7d0c8dccb90174210ebda0930497c5e7008b0829a","heads":"1d1f3e7beb19d918cbb874f24d15a208ac9c7933d9ed82426bc74031feb560c1","leaf_index":9,"notification_id":10,"originator_id":"29b88c98-3157-52e3-8b26-5ad8b9a156d9","originator_version":1,"prev":"92032620d77c1643f26a6bfbb00ab4ceedc32bdd54a4d3181024f6d6f7fc6c89","space_id":null,"space_prev":null,"space_prev_leaf":null,"v":2}	\\x0d4c07c4704563ea32f6a49f3ed4f742faedeaafa2cbad9fff1a1deb99fe19c0
10	11	\N	professional	10000000116	2026-04-13 09:01:00+00	{"actor":{"id":"10000000116","name":"Dr Durand","organisation":"Cabinet","profession":"doctor","role":"professional"},"actor_prev":"0d4c07c4704563ea32f6a49f3ed4f742faedeaafa2cbad9fff1a1deb99fe19c0","actor_prev_leaf":9,"at":"2026-04-13T09:01:00.000000Z","details":{"key_id":"88766f514e58822fb445a538eb2e6f2c"},"event":"Reader.KeyRegistered","event_digest":"1d3a8a03dfa13f761b437075abee1a6357697baafeda1244718e9224e250537f","heads":"f997dc01ec92e59c48be3382193448f52d0d4bceb94245e5d1cacddf9cc2c065","leaf_index":10,"notification_id":11,"originator_id":"29b88c98-3157-52e3-8b26-5ad8b9a156d9","originator_version":2,"prev":"0d4c07c4704563ea32f6a49f3ed4f742faedeaafa2cbad9fff1a1deb99fe19c0","space_id":null,"space_prev":null,"space_prev_leaf":null,"v":2}	\\xc3153fcaf02d42f315854eff29e940506a5afe24c6a99157bb21296e588432de
11	12	\N	patient	287067500030103	2026-12-03 10:27:53.833549+00	{"actor":{"id":"287067500030103","name":null,"organisation":null,"profession":null,"role":"patient"},"actor_prev":null,"actor_prev_leaf":null,"at":"2026-12-03T10:27:53.833549Z","details":{"actor_id":"287067500030103","role":"patient"},"event":"Reader.Created","event_digest":"129903f0038b860cc6e294c75c1e3e5969dcb8ea805f95256b8d784184b871d3","heads":"fddabe3bf7cc2e0b27430a61f4979bfcba73bb2e3bbc9b20209c5c7389179a2e","leaf_index":11,"notification_id":12,"originator_id":"f0251cce-5e13-59b9-9ae1-fa9c4fff8c56","originator_version":1,"prev":"c3153fcaf02d42f315854eff29e940506a5afe24c6a99157bb21296e588432de","space_id":null,"space_prev":null,"space_prev_leaf":null,"v":2}	\\x3b53fada59abcaab3bc8c5c37be73386e4f880023311a1e1fc0dbd5b72bfb9b0
12	13	\N	patient	287067500030103	2026-04-13 09:01:00+00	{"actor":{"id":"287067500030103","name":"Patient 103","organisation":null,"profession":null,"role":"patient"},"actor_prev":"3b53fada59abcaab3bc8c5c37be73386e4f880023311a1e1fc0dbd5b72bfb9b0","actor_prev_leaf":11,"at":"2026-04-13T09:01:00.000000Z","details":{"key_id":"9e4378b61b12b8fc893763fc90b96c49"},"event":"Reader.KeyRegistered","event_digest":"5268db59e6033340b8dfc19f19150cf8cf91df2af5b33982871af09b0423128c","heads":"20fe7e3d017542f4a5b709e37252b9bc09e1340aa87111e4e6477229a2c5f7e1","leaf_index":12,"notification_id":13,"originator_id":"f0251cce-5e13-59b9-9ae1-fa9c4fff8c56","originator_version":2,"prev":"3b53fada59abcaab3bc8c5c37be73386e4f880023311a1e1fc0dbd5b72bfb9b0","space_id":null,"space_prev":null,"space_prev_leaf":null,"v":2}	\\xda0aa912ce9024439fb63917f47aa12aa4b1e63909a1f2f1d134d792c2afd4f7
13	14	\N	patient	185057500030237	2026-12-03 10:27:53.837116+00	{"actor":{"id":"185057500030237","name":null,"organisation":null,"profession":null,"role":"patient"},"actor_prev":null,"actor_prev_leaf":null,"at":"2026-12-03T10:27:53.837116Z","details":{"actor_id":"185057500030237","role":"patient"},"event":"Reader.Created","event_digest":"712ace6dc2a7169fef6f1677726b852ee24d36ea2f1837f40bf17fbd4d7b51f6","heads":"fdaacf2e46092e7109ed887df7fa7b493961b2f252f28723b4054d330f20f6b5","leaf_index":13,"notification_id":14,"originator_id":"058ee419-55cf-5617-8e8a-b1f34f87fe37","originator_version":1,"prev":"da0aa912ce9024439fb63917f47aa12aa4b1e63909a1f2f1d134d792c2afd4f7","space_id":null,"space_prev":null,"space_prev_leaf":null,"v":2}	\\x2a7420ff60b4c37e1592bbde0bc0219d92dd14ba81204aa5d24f3d147b7a7bbb
14	15	\N	patient	185057500030237	2026-04-13 09:01:00+00	{"actor":{"id":"185057500030237","name":"Patient 237","organisation":null,"profession":null,"role":"patient"},"actor_prev":"2a7420ff60b4c37e1592bbde0bc0219d92dd14ba81204aa5d24f3d147b7a7bbb","actor_prev_leaf":13,"at":"2026-04-13T09:01:00.000000Z","details":{"key_id":"e4674b299d6058abf6fda3e5657f65ef"},"event":"Reader.KeyRegistered","event_digest":"a42fe002120b0c27019e7932d817fe32589bd3ccd0a0cee4f40f5db62ac47572","heads":"41f82efa11e72c853915c5b526d3daf7636f4e86932dc0af28f5a26ad29d2c6f","leaf_index":14,"notification_id":15,"originator_id":"058ee419-55cf-5617-8e8a-b1f34f87fe37","originator_version":2,"prev":"2a7420ff60b4c37e1592bbde0bc0219d92dd14ba81204aa5d24f3d147b7a7bbb","space_id":null,"space_prev":null,"space_prev_leaf":null,"v":2}	\\x3d11f02b2b7d994e152d1d24d4f1c1e4735b2669afe3bf2c7499318fa467e938
15	16	\N	patient	185057500030336	2026-12-03 10:27:53.840121+00	{"actor":{"id":"185057500030336","name":null,"organisation":null,"profession":null,"role":"patient"},"actor_prev":null,"actor_prev_leaf":null,"at":"2026-12-03T10:27:53.840121Z","details":{"actor_id":"185057500030336","role":"patient"},"event":"Reader.Created","event_digest":"a192c0f952863fcfab90170bcb8771a2a2747f59899633eff97c736b532e8fe1","heads":"0f7cce80300be87b837fe7e04cec0af8083fa551d03dc70d61197fad88b856c2","leaf_index":15,"notification_id":16,"originator_id":"d9ea1bfb-e559-5ee1-afd4-94dfaaa615fa","originator_version":1,"prev":"3d11f02b2b7d994e152d1d24d4f1c1e4735b2669afe3bf2c7499318fa467e938","space_id":null,"space_prev":null,"space_prev_leaf":null,"v":2}	\\x9148afcc8c1678364d63c6e8cc475ad89e73bb686af09ae656ca0ed458491d07
16	17	\N	patient	185057500030336	2026-04-13 09:01:00+00	{"actor":{"id":"185057500030336","name":"Patient 336","organisation":null,"profession":null,"role":"patient"},"actor_prev":"9148afcc8c1678364d63c6e8cc475ad89e73bb686af09ae656ca0ed458491d07","actor_prev_leaf":15,"at":"2026-04-13T09:01:00.000000Z","details":{"key_id":"a399fd2d5943a34c4c2e0f5f16e005a1"},"event":"Reader.KeyRegistered","event_digest":"0c20f6f52421a0fc4e8050df8f6af1cfea39cba9ff5569eec2be89e5451fb652","heads":"fd712fa67de6ab1054a36c5b1d1d5b9ddb5bb1acb815d2fa70be3375f700ac82","leaf_index":16,"notification_id":17,"originator_id":"d9ea1bfb-e559-5ee1-afd4-94dfaaa615fa","originator_version":2,"prev":"9148afcc8c1678364d63c6e8cc475ad89e73bb686af09ae656ca0ed458491d07","space_id":null,"space_prev":null,"space_prev_leaf":null,"v":2}	\\xba9a64be2f0610900b1f42eb58e335e0007c9efa2a922178118e829548336703
17	18	d05832f4-3ead-56f8-b045-1de0bbbad76b	service	chu-lyon	2026-04-13 09:01:00+00	{"actor":{"id":"chu-lyon","name":"CHU de Lyon","organisation":"CHU de Lyon","profession":null,"role":"service"},"actor_prev":"92032620d77c1643f26a6bfbb00ab4ceedc32bdd54a4d3181024f6d6f7fc6c89","actor_prev_leaf":8,"at":"2026-04-13T09:01:00.000000Z","details":{"blob":"d1fa064f118d4ed5b603fe37edacb89f","document_id":"bf0d65c5-12d2-4e06-aec2-144ad044040d","sha256":"442031be10502c240dc1677d37f5901da0148c620b034c4425516825a94fd4eb","size":79,"type":"lab_result","version":1},"event":"Space.Deposited","event_digest":"c05a610858eb215edc1cfe84bc70473be34a6611217c49971064c3d4024ea576","heads":"647a634333a717be46c275ff9dd2bcf7da88f92d214b34d37e2093c6de3829ce","leaf_index":17,"notification_id":18,"originator_id":"d05832f4-3ead-56f8-b045-1de0bbbad76b","originator_version":4,"prev":"ba9a64be2f0610900b1f42eb58e335e0007c9efa2a922178118e829548336703","space_id":"d05832f4-3ead-56f8-b045-1de0bbbad76b","space_prev":"d5a1f74a7984953a55d78afe270ab109302bb9e9f634d82f1f34d25dbb14d9fd","space_prev_leaf":2,"v":2}	\\xc1129e71d19ba8a70421505a1eed236e8e1369babee33b5fa26fa2721797f436
18	19	d05832f4-3ead-56f8-b045-1de0bbbad76b	service	chu-lyon	2026-04-13 09:01:00+00	{"actor":{"id":"chu-lyon","name":"CHU de Lyon","organisation":"CHU de Lyon","profession":null,"role":"service"},"actor_prev":"c1129e71d19ba8a70421505a1eed236e8e1369babee33b5fa26fa2721797f436","actor_prev_leaf":17,"at":"2026-04-13T09:01:00.000000Z","details":{"blob":"76a1625ee1874b67816e54c7eb765ff5","document_id":"346a6c15-ca05-4428-bd50-15d57594e927","sha256":"b22ecafe4195d586f949d88667edde454c2274fb7960aea79e0e1423a960a694","size":79,"type":"lab_result","version":1},"event":"Space.Deposited","event_digest":"b06b1461397d313b9558d541fabf9fd02cf35997f7b1a54fa6e69b32beb8ebec","heads":"59fbc65693349fa8564a9feaa277739e36970ac2a81867573212710d90fb9a57","leaf_index":18,"notification_id":19,"originator_id":"d05832f4-3ead-56f8-b045-1de0bbbad76b","originator_version":5,"prev":"c1129e71d19ba8a70421505a1eed236e8e1369babee33b5fa26fa2721797f436","space_id":"d05832f4-3ead-56f8-b045-1de0bbbad76b","space_prev":"c1129e71d19ba8a70421505a1eed236e8e1369babee33b5fa26fa2721797f436","space_prev_leaf":17,"v":2}	\\xc8c3b9976327de15f131f2bdf0cf65259d7742c127feb53bc64a682b6ead1682
19	20	b24810b0-51ed-5692-99c6-61de468f2b5a	service	chu-lyon	2026-04-13 09:01:00+00	{"actor":{"id":"chu-lyon","name":"CHU de Lyon","organisation":"CHU de Lyon","profession":null,"role":"service"},"actor_prev":"c8c3b9976327de15f131f2bdf0cf65259d7742c127feb53bc64a682b6ead1682","actor_prev_leaf":18,"at":"2026-04-13T09:01:00.000000Z","details":{"blob":"5314acdb383b49ae9496e663d41aa555","document_id":"6b72fedb-6ec0-4942-b0b9-3b7541f72539","sha256":"deab1ecbad02af52bbe7e5ef9742cf94e869d6bd444c9108770fe515c21f1256","size":79,"type":"lab_result","version":1},"event":"Space.Deposited","event_digest":"2de45b8ca5d6c1fad34237fa5a04beec8b7f4a8bcc171aa5bb03badaac5b7322","heads":"2445b5c8fe7f0d8712d69d9843a8fe1fbcb4d66f5861120b88b0abb209bf9fbb","leaf_index":19,"notification_id":20,"originator_id":"b24810b0-51ed-5692-99c6-61de468f2b5a","originator_version":4,"prev":"c8c3b9976327de15f131f2bdf0cf65259d7742c127feb53bc64a682b6ead1682","space_id":"b24810b0-51ed-5692-99c6-61de468f2b5a","space_prev":"bb48300f123aa5da5f69cdcf0988410f04143399ae8c2e70ff0bb95fdd7efac5","space_prev_leaf":5,"v":2}	\\x237e8b541e8010cf79f74f6e76a11c133dfbae5757f83a28b96ce0e5a280a8ed
20	21	b24810b0-51ed-5692-99c6-61de468f2b5a	service	chu-lyon	2026-04-13 09:01:00+00	{"actor":{"id":"chu-lyon","name":"CHU de Lyon","organisation":"CHU de Lyon","profession":null,"role":"service"},"actor_prev":"237e8b541e8010cf79f74f6e76a11c133dfbae5757f83a28b96ce0e5a280a8ed","actor_prev_leaf":19,"at":"2026-04-13T09:01:00.000000Z","details":{"blob":"9078779112b04c8ba48c099e63844789","document_id":"d747d938-6209-4f3f-8e67-5866c72e6cd1","sha256":"b8c49505432de0f3aecc70b7b73531d7fce65b989abee9319bd6c3e6fa7f60f0","size":79,"type":"lab_result","version":1},"event":"Space.Deposited","event_digest":"38abe041acd15a80deea64b30c97b5894b2e3344cab0eb0ae39c8d9b72397c7c","heads":"e74d55d58958ee2d32229062d92ed669d414542f7a693c9e205b9645f1747e80","leaf_index":20,"notification_id":21,"originator_id":"b24810b0-51ed-5692-99c6-61de468f2b5a","originator_version":5,"prev":"237e8b541e8010cf79f74f6e76a11c133dfbae5757f83a28b96ce0e5a280a8ed","space_id":"b24810b0-51ed-5692-99c6-61de468f2b5a","space_prev":"237e8b541e8010cf79f74f6e76a11c133dfbae5757f83a28b96ce0e5a280a8ed","space_prev_leaf":19,"v":2}	\\xe7a406bf73f85202781c37933ddd942bf038ce0183e1db37725e4b39f511a47e
21	22	31837967-4893-5136-b58c-71b7582f2aac	service	chu-lyon	2026-04-13 09:01:00+00	{"actor":{"id":"chu-lyon","name":"CHU de Lyon","organisation":"CHU de Lyon","profession":null,"role":"service"},"actor_prev":"e7a406bf73f85202781c37933ddd942bf038ce0183e1db37725e4b39f511a47e","actor_prev_leaf":20,"at":"2026-04-13T09:01:00.000000Z","details":{"blob":"015ff32bcf0e433ebd67355b9119c899","document_id":"b57c95cb-875a-4c4f-9aab-71f6c39b5a52","sha256":"0db94d208c9a39bd2bc85296c6a747e52bc52a4dc4e1f8baa0c118ab57d382aa","size":79,"type":"lab_result","version":1},"event":"Space.Deposited","event_digest":"1dc96729b186409eb66a7b11997c4a452d67c24735c98609664459609979fa4c","heads":"38d4aa7acef207b0c5555cf6b8a1e44e2d3f426376c4d92d844164e3b3c9194c","leaf_index":21,"notification_id":22,"originator_id":"31837967-4893-5136-b58c-71b7582f2aac","originator_version":4,"prev":"e7a406bf73f85202781c37933ddd942bf038ce0183e1db37725e4b39f511a47e","space_id":"31837967-4893-5136-b58c-71b7582f2aac","space_prev":"92032620d77c1643f26a6bfbb00ab4ceedc32bdd54a4d3181024f6d6f7fc6c89","space_prev_leaf":8,"v":2}	\\xf9fccdb2d430bef7f0f128bf0706788ca8392ece0f48dda3608131dea32748f0
22	23	31837967-4893-5136-b58c-71b7582f2aac	service	chu-lyon	2026-04-13 09:01:00+00	{"actor":{"id":"chu-lyon","name":"CHU de Lyon","organisation":"CHU de Lyon","profession":null,"role":"service"},"actor_prev":"f9fccdb2d430bef7f0f128bf0706788ca8392ece0f48dda3608131dea32748f0","actor_prev_leaf":21,"at":"2026-04-13T09:01:00.000000Z","details":{"blob":"17b82aa259ce417e8a95900ea661bb5c","document_id":"11dd9eb5-8e00-4846-9fc6-4f07effa13e2","sha256":"4493967030eb701fb0d8e9ff4026a1a2fc68b2e60bbeb7f38c38c80e5e559ce9","size":79,"type":"lab_result","version":1},"event":"Space.Deposited","event_digest":"9a260040408a67c5681a16fdd5ab13caa730e08c8c093b80d8a8cd2c2389b0d7","heads":"fc13b1188c0cbffedaf7aa68920bb638896f707555fc586a6ac629c8cb8a819f","leaf_index":22,"notification_id":23,"originator_id":"31837967-4893-5136-b58c-71b7582f2aac","originator_version":5,"prev":"f9fccdb2d430bef7f0f128bf0706788ca8392ece0f48dda3608131dea32748f0","space_id":"31837967-4893-5136-b58c-71b7582f2aac","space_prev":"f9fccdb2d430bef7f0f128bf0706788ca8392ece0f48dda3608131dea32748f0","space_prev_leaf":21,"v":2}	\\x168c634a89ac17547de14ac1ae24e1ac6e2a81595abe2d18206b1fbe6098f219
23	24	d05832f4-3ead-56f8-b045-1de0bbbad76b	patient	287067500030103	2026-04-13 09:01:00+00	{"actor":{"id":"287067500030103","name":"Patient 103","organisation":null,"profession":null,"role":"patient"},"actor_prev":"da0aa912ce9024439fb63917f47aa12aa4b1e63909a1f2f1d134d792c2afd4f7","actor_prev_leaf":12,"at":"2026-04-13T09:01:00.000000Z","details":{"expires_at":null,"grant_id":"e5f42d69-d31a-4a43-9062-4a37c007ef10","grantee":{"id":"10000000116","name":"Dr Durand","organisation":"Cabinet","profession":"doctor","role":"professional"},"scope":{"documents":[],"kind":"space","types":[]}},"event":"Space.Granted","event_digest":"e9fee53187d0d5831806c37803e974bb8c778b6d8c899f9afd659aafd2d70400","heads":"ef50f2f306971e98b8dfd796b0980ea700ef399e00022d02a1770e7dacaa67a5","leaf_index":23,"notification_id":24,"originator_id":"d05832f4-3ead-56f8-b045-1de0bbbad76b","originator_version":6,"prev":"168c634a89ac17547de14ac1ae24e1ac6e2a81595abe2d18206b1fbe6098f219","space_id":"d05832f4-3ead-56f8-b045-1de0bbbad76b","space_prev":"c8c3b9976327de15f131f2bdf0cf65259d7742c127feb53bc64a682b6ead1682","space_prev_leaf":18,"v":2}	\\x7a2d7eb6ed818069f3dfc8644e884ffde3f7d079548dd1c2b57faad2081442ee
24	25	d05832f4-3ead-56f8-b045-1de0bbbad76b	professional	10000000116	2026-04-13 10:01:00+00	{"actor":{"id":"10000000116","name":"Dr Durand","organisation":"Cabinet","profession":"doctor","role":"professional"},"actor_prev":"c3153fcaf02d42f315854eff29e940506a5afe24c6a99157bb21296e588432de","actor_prev_leaf":10,"at":"2026-04-13T10:01:00.000000Z","details":{"document_id":"bf0d65c5-12d2-4e06-aec2-144ad044040d","grant_id":"e5f42d69-d31a-4a43-9062-4a37c007ef10","mode":"grant","reader_key_id":"88766f514e58822fb445a538eb2e6f2c","space_version":6,"version":1},"event":"Access.Read","event_digest":"06e83b1cf6e1751ce57b0876bcd510899d63b8b7bf070d6d8c12a8fcfd145b34","heads":"0fa44e0315e3e92ee56835cdd7cfc476c20e2257ed2681f68f2a22b4d35968e4","leaf_index":24,"notification_id":25,"originator_id":"02b32bfe-6277-4d32-be75-c9c7b4f5f1eb","originator_version":1,"prev":"7a2d7eb6ed818069f3dfc8644e884ffde3f7d079548dd1c2b57faad2081442ee","space_id":"d05832f4-3ead-56f8-b045-1de0bbbad76b","space_prev":"7a2d7eb6ed818069f3dfc8644e884ffde3f7d079548dd1c2b57faad2081442ee","space_prev_leaf":23,"v":2}	\\xd803f54116878d2c136b67879c2beb82dd74236a1de70334c8631e45a0d603d8
25	26	31837967-4893-5136-b58c-71b7582f2aac	patient	185057500030336	2026-04-13 10:01:00+00	{"actor":{"id":"185057500030336","name":"Patient 336","organisation":null,"profession":null,"role":"patient"},"actor_prev":"ba9a64be2f0610900b1f42eb58e335e0007c9efa2a922178118e829548336703","actor_prev_leaf":16,"at":"2026-04-13T10:01:00.000000Z","details":{"archive_until":"2036-04-13T10:01:00.000000Z","deletion_due_at":"2026-04-13T10:01:00.000000Z","express_deletion":true},"event":"Space.Closed","event_digest":"28a8e60dc4acb99ec7c798cda5cefc42eb90377f78b1225884b267758ecefbde","heads":"91cb7765975e23f9e6a01603fe541f10a2bc97dba7584010469d9919a2c864bb","leaf_index":25,"notification_id":26,"originator_id":"31837967-4893-5136-b58c-71b7582f2aac","originator_version":6,"prev":"d803f54116878d2c136b67879c2beb82dd74236a1de70334c8631e45a0d603d8","space_id":"31837967-4893-5136-b58c-71b7582f2aac","space_prev":"168c634a89ac17547de14ac1ae24e1ac6e2a81595abe2d18206b1fbe6098f219","space_prev_leaf":22,"v":2}	\\x1939454d8ac5407055892063e9c7519487503246e3124f6928cc43c8a68691c6
26	27	31837967-4893-5136-b58c-71b7582f2aac	service	coffre-scheduler	2026-04-13 10:01:00+00	{"actor":{"id":"coffre-scheduler","name":"Coffre scheduler","organisation":null,"profession":null,"role":"service"},"actor_prev":null,"actor_prev_leaf":null,"at":"2026-04-13T10:01:00.000000Z","details":{"key_id":"spk_2b67ea8c392442e2b1127c9c6dcc1bd5"},"event":"Space.Shredded","event_digest":"a2444bc82645058c2a60bbc2a546a158be9bdf2a65dc88ea4f0f774c1b1caa20","heads":"84665757bdc06feb1f77b7909fb2351f8cdef959865e0ea27db8e1a05ada3c1f","leaf_index":26,"notification_id":27,"originator_id":"31837967-4893-5136-b58c-71b7582f2aac","originator_version":7,"prev":"1939454d8ac5407055892063e9c7519487503246e3124f6928cc43c8a68691c6","space_id":"31837967-4893-5136-b58c-71b7582f2aac","space_prev":"1939454d8ac5407055892063e9c7519487503246e3124f6928cc43c8a68691c6","space_prev_leaf":25,"v":2}	\\x86a9a11c67e21f78070e1e46a53181af9fe6fc68b74ea6172fbcaa36361bd5b5
\.


--
-- Data for Name: trail_format; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.trail_format (id, v2_from) FROM stdin;
1	0
\.


--
-- Data for Name: trail_heads; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.trail_heads (level, idx, hash) FROM stdin;
0	9729	\\xc9f5f3a5cd78325258fdae580d964e674c1e66f297070a5f9f7819a397ff0bbf
0	29888	\\x6454dfa631fc733a56c36788074bda3ec244a4be6f5569de8b19ea278bf75eb3
0	30285	\\xd49cbc4e707a79975a54fd6923090acdd588fd3daa5e3e4a4b621985591c8a90
0	30821	\\x582fe3baf80723483e54019295864c0334981ebf294a830f834643e8167ff432
1	4864	\\x783fd74b9474e94dcdbe87cd5a300133e2e74cca6b316153aabeacaf78160d28
1	14944	\\x1ce2749244d67fd3a47391d7ca2ca04b24b8fcda3f11d5d95a4ea6ee45941e84
1	15142	\\x279097c373b89ef6b54b62dc9c34f65d4314f04ab73a6e72d86f42d043e7f5e9
1	15410	\\x5b0ee3bb05149dac6fcf7846c8ee895303cc2e6354971d43e596a66598024349
2	2432	\\x7a1d28b213023dc73f810acbb6177faeb00a00138789df544e24a34d15535685
2	7472	\\x1436582f11b20ecfdbc15f3e6af408710a63d421bfba9005219ead241877b3f4
2	7571	\\x997c71c84a3f103254694b1fa0b9bef45971e59df0af657796812253aa79a115
2	7705	\\x49f98e3ded5ee41725cbeb674f015fd03fe734106c6f6e20a5368473c60d2a14
3	1216	\\x789851a035c60e8c44f13dabb50ee997f690f9f9c0362c92ef9036c26e0d1c5a
3	3736	\\xa7c5d1442138d32fac9b2b18dbf47aaa9be6b966a6df7d0a2bdd63649d482901
3	3785	\\xfe6eee0f229fcaeeb97fc8d585bb98570636aae2d0006f5964f66a5764f773b9
3	3852	\\x40f4b046be277fd8c508dbd5a3156469176cc6943548006ad1e37677ce1613b0
4	608	\\x7549685636ca89ab61489b8cfa215c63ffb89fa0ff062a808f12a80ec1f5c356
4	1868	\\x5c9b61bfc226675c90a3d5f706c4a4a5add162bee3e68d9799dd07ee4211ef08
4	1892	\\xe32f733e01d61c632fa91164f89fe35ca4f9d4fb81c8b7832a4ec1b6cd8461d9
4	1926	\\xec0f77efde1d8251ca9b21b3f39d0c5565d356445f5098324391787936d120d6
5	304	\\xd079bbacbad1738ee983cf0fbc2e0c03967c512517a2f03096eb3b28d54246ca
5	934	\\xae80a3e7df36d84c8e34a1051358dd3c269b3be85e0e60c66510dce731eb9fcb
5	946	\\xc4d6d0262b85db2ea25c051c47a5d5755a26e68053d8c71824aeae15c9764fa6
5	963	\\xef67c0896da729770928bbdd3ad575afd2486640f94fef6f1846c496aca305b0
6	152	\\x9c6ac12b3ac17b74dc6ee6ea4b86865fb70794520871c227b6fcad9dfd03b4c0
6	467	\\x27fcd0d8b6eb622f9ef87a1387d73b52f832f91ba28a6fcc04dc0cb51d988552
6	473	\\x6abc80f2d765bb43da96ce185a4a20af450b6a12bd95689dc0ced3fba922c10b
6	481	\\xff63660007b26f08d7e36d4905a1a1d6ce63b917bd515d7fd025d7d981f32221
7	76	\\xa07c9dab5923e279d2d8205760f4f7cf6bec39e4f4e0e7f0a6b01ce8abf11327
7	233	\\xcba498485ea545f31137cec9d88a3127df7d6c87ec721831fbab1056f45cd100
7	236	\\xe295ae251b30c8b65b91201951cd66f49a1ec86a36023eb26c0eaa553fca2822
7	240	\\x9de21df60ef4faa59a633ce83d248034afd8ac0c758a0a406e7c07fe154c3f2d
8	38	\\x3a72e750e89035d3ec4483ec4e26dc48f2678d88784810840af2d977a63ed256
8	116	\\x2d69a03b2631e60ac0ab901b1751500f4541e302e167c5b17f0d3139060ca304
8	118	\\x43e3af3b61b9e73dd526340092d95954365b27986476abee1c14ee38247c8f16
8	120	\\x3301718820e51665128b6a83e6ac5d8da3d3dc3e5cbe0f7a86189368ef2afb4f
9	19	\\x3dd2443429b66b0c7cd21b36e244917b0e4f3a65aa555315656f5a992d8a7365
9	59	\\x480068acf9998558526822d77d8f2a93986c57a52f73653478123c63d8c604f4
9	60	\\x51f3ecc6424d810efd1bd3e4ca7c076cc95a5146e2aaeb99067c9b4d1bf3fe4d
10	9	\\x5166908aae07b52b455ac425dbf37f45f717e2f66e61bca75d12295da56b3938
10	30	\\x771c464dbd4dc6c296e360294ad87949e62eea2003366b7229d90d82467aac82
11	4	\\x3b27fccfe984a182fea9c1c31d1d384ef74cab61fc3a0a9e0e7330a97ecd7253
11	15	\\xbab520908993ebbb90768a67c2dd852b43d40c1828e4db49d3373fb35cc524d8
12	2	\\xca2f360f3f2b0abc29df26eb36699d52ca683662c99caecfd74b99ebd516d026
13	1	\\xc56ed6eefeb6046ecb8eeb067f764b38f6d9021b077b8acabdb1e11aa39d0426
0	1151	\\x18a45f82ec3e0a66eeae8ee4e59c95a1301246eb29b7e30eda233431dc0a90fa
0	18332	\\x6e315f923fad1b05f78841048819dde2d1637c2f70c3a9eec54359a086a95749
0	30175	\\xd6673acfe704c25b425e745b716bff4bb7a8f873a4dcf9fbbb57a20c5506c8bd
0	43299	\\x6449e3fbb5df53210157b4ebabef739abdaf0cea062e81933b912bd898fdbb44
0	49693	\\x3256192525afd20bcb69ba9f817fdb3147558308efbe5e49b49d7aab067e2c34
1	575	\\xe7a07de7f5309baa4f87d2c980b0743b1d3820cbc85f46b1d994e3dfcad6d26e
1	9166	\\xfdba833a704054e97cf8aee282317810d35de4b44c3963ce680ee02768076213
1	15087	\\x57c0670b1af1bc9d71a29f1a38efeca63fbbd866da1f14643f458f3bf6d620c7
1	21649	\\x6839d9f49ba4e1dead06d2a4ddb8285dab45066cfa8a98a498b1c7b747a88d9b
1	24846	\\x26d7f349e1f04ff711870bae6c8fa0c2bff0d7c2d151192687c5746c5daf3a0b
2	287	\\x3d7fc4bfecc0064d2cf4ec9cf9447f2b41fc1810d3a708a160374e4082430e34
2	4583	\\x3ad7c3a83527ae94a9f884184cffb0afc8b7efd77bd8eb5a5854c99509a1b9e4
2	7543	\\x20aa150874f2dce65a4c3d5f4d2fc7e5dc1fedeb766609d24418989f18909588
2	10824	\\xf60fcb787c39192552fd4635fc07c44255030d81ab06b6261fe84e2b5fea7eff
2	12423	\\x40e18f2f168d45c4089d63e288221b790018f9fa3ac778e37363b4ac65b4ed4a
3	143	\\xaab1c8a49f76b664993ddce179a629f50c3b713e10bbd88585e02d41393b452c
3	2291	\\xecf1185180f2ebe85a2d22a01c059dbafb46c5ab5bb558a2e4126eda77fe40f4
3	3771	\\x00c3480b62228139fa4d72f35b7140656297cefcee4e99c4778f826268b297d4
3	5412	\\xa76cdd46934058d8ed86bd1fa2ed6a48a742435b0ddb5ded7db06ebd6581a8d1
3	6211	\\xb1297c19698ec83c84d75425d9556f52abad9ef644748316346f986b850289a5
4	71	\\xac1a61c4d70c89914ddadcfa5f93ec0dee4b6b1a970532b6c406356e3c6afa0c
4	1145	\\x75a3050fdc8bab54de9f6795ce4c982b10a99ede12aefb8f17db28da3c891871
4	1885	\\x3aadc6b4ee16cbc404a0da2f5ccbb079662029906eba38052770768a2c03ba79
4	2706	\\x99e794fc2deb5c2d33dd3e7fe2be8628b838314499db5511b477049ea2f917ef
4	3105	\\x9262e9cdaa081aeb7b3a0a5f5d718a8b8071b249aad7e3f3a89b6da08b27c773
5	35	\\xb1110e1c4762f828623dbf30b40da7201cd3486869b87f4b16c2d420197aa95b
5	572	\\x7733d7a4cd07c43fca9a3fb485a0449b1235d87c7d652ba30a0c56ea44ae34e9
5	942	\\x6b1917dd528159d9fe14f7c7ad7c5d12a83ee4d417e686f50e678ea421dcc1dd
5	1353	\\xa3bd088fd3496570db8e3f9f848f46fee63196e157fc3f897339cc786a833b43
5	1552	\\x630adae1850062a40ff4a5ed58cb951b6d3b7de94fd17e6d283d6afacee0dc13
6	17	\\xc949172c045b7e4c0f5bf608ce034f12543309e99994da38bb44fc461f0c1612
6	286	\\x3e36ac5cc772c3df27cac9a17c9e59ebb1158e61226987c1d41e8568d12a654c
6	471	\\xc57d3cae0b127a8d22af2893d79c90d55a6f4abc89705d630577128bddd4b4d2
6	676	\\xe3626b85e2165dd674aede9b07e165c13806b226e25dacb0c09acf1ae4e012b2
6	776	\\x04894c0072bc86e2d53788a422ab58d532615ea7318623a868fb922a85a3bacd
7	8	\\x687edf7b8863fdb0d1a7ace89a1a7263b230218093d30e8e6a0483f0f69be0c0
7	143	\\x0008ffb085d3941c6d0cc1e53da536987c41d42419fece1d2691262a32837be7
7	235	\\xfe1eaa6dc86505c6581c0480a3a475a50c4c573f6202bc004125cac95bd84390
7	338	\\x670cde4645b98a5dbdd1a102584e6b19dedc8edc591a253ca5166634fbc83fe8
7	388	\\x8722225b61c763ab7b4e20bf56e3ae7bbc6909556025e0470354808ad9bb0bf5
8	4	\\x08d14f29b2a4d6fad04e28f9c42d3659761d4949631caa647aa6f01e5ed3fe14
8	71	\\x1b4bb62542289c001774f6e1ed31146b750f7b61184b3685f4e70326747455c4
8	117	\\x3d661177dc8e78831fc60c7f529432221dce0fdc2b40256a6762d02ab1d304f4
8	169	\\x637298fdabcc6a5eef7c76174ce8fcd5c57ffe66435485327ac866b9e4bcef89
8	194	\\x6425eb60fbbc7df2570ad10e9559fff02e90a3bdfc22f40c030dc49d37deebf7
9	2	\\x20d059b294249bdcfe312954f33155d60b681080dd469632d9a6d51fd99b3c28
9	35	\\xed100b283cda6fdfc0236cf3128221b7919e4040e02e629a7d6d50678ef91dec
9	58	\\x2e4f863d0c82b2fa8c4b3bdefb3d82070dfd1c1b99c2b4d6494d2c1d8a694b08
9	84	\\x59698b9196d5f8ae89f0d0c6e29e3b435979bfbb33bd9ab6dcd699d261b49599
9	97	\\xf3a21fc79b074901d57890bcce108e08eed27ab981779c9cef9984270597d5b2
10	1	\\x3a9d655440318b01a4b03d99d76a8c2a2c06b94c78f711ea2be18f48e4a260e2
10	17	\\x55a8c2eb610c4973dbfc19a70fbfb78e4fa028d2d5b22acb39ce20332aaea81b
10	29	\\xddff58ee666e1bf8688969f7768e6ca61b6dc8c91d8bf9cd67e6c80de70fa0f8
10	42	\\x282fbb19f0a6705c97f40927ecc31aca72ff827f423fb89cf1d160da72b1d72f
10	48	\\x26afd1c883e07ae4b681c7c59bf3b7a429c0ae089087b08184925dd97691c8d2
11	0	\\xc204f131934d1cc40078ac18e35fdcb81dfeb4770b3b91a8273af4b3ca1f785b
11	8	\\xbd8a76156514140e84d2fcbb24f6c1638e1c365cf47df1164a222000dbfb2c63
11	14	\\xf32454922ea67bb1c00990bd37d7377c7756fa2803d71d3bf1fc34006f00981b
11	21	\\x1386777819f972de82df7982899ea9c71bdac4f261c9a68146bd7e5b63a8a68a
11	24	\\xfe5c391d0c7f924bc98ec4609fa1add371f4527f9295f05b2e6f8e9d02381f42
12	0	\\x455cb3b993e45a05386256152fdb0c3f39fe4c5bfb48680cfa411dc24ad5736a
12	4	\\x57a05a5ef8d177d75b67653d144406db79b535ce09733044f59e37bcf420e44c
12	7	\\x653a6462e4f6584680b1137319fb6774eb9e1ec12be40fb9472ec92f7679f94b
12	10	\\xb161b595507b4ffb50609c29b3e6618213cdbb84058c98a3ec23e31f40c1cb4a
12	12	\\x76a3d0ecdb972742cd06c8fd5d00cd066c84826ee3874ca13ee67d34f210cb71
13	0	\\x361aef760e3f316805a2dfab13afcc4c18e58fc5e866108f2f1ce6a379de4c24
13	2	\\xaae592bd29422d67d9587da40841944521d7de2dce473a239d00e92c87068792
13	3	\\xb55f0e85ecbc4224ae482e701823e65adf8ea59f13e5c373ddc8ce0339b4509a
13	5	\\x9f12d041e8da1febbdc7ee4c3293d395970b550588050b9b787ceede6b26524d
13	6	\\x7241208b9f4814f735d7b72c2aa70e0f9df6ac682f45e70d03702e799275462e
14	0	\\xcc10d10f9825ead7ed6375362ac7f19d2b7b366494e3f1aa57d1c890d4b91e3c
14	1	\\xb906af9096d6492fe5562af27286bb68d11829daf727ed4952d6116e4c31e56d
14	2	\\x403dea54725507c64441530f5c611f332fc115b3bb7534758755cba932689976
14	3	\\x4bf7c0505599be52eda487fa0abd64ebcf96ad13541fa90b4e0211963957683e
15	0	\\xcc228ff7259669bfe2c95f641918ad07ba92c280a7d88c927debb04b24cbb75e
15	1	\\xd5c22571a859724eab6061d0ce2ca39550a7b74b02b5e1d134e4611a207b8b86
16	0	\\x84665757bdc06feb1f77b7909fb2351f8cdef959865e0ea27db8e1a05ada3c1f
\.


--
-- Data for Name: trail_nodes; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.trail_nodes (level, idx, hash) FROM stdin;
0	0	\\x3187af78780ada7add380871fa00d3c9de0268cab791756be42db902f5e5e6cd
0	1	\\xc4dd16c065d8db5af145b8708df30c6b6bdab6a93accec8b1531552e51e2031b
1	0	\\x4185dfeb67870f6d92ca113399a444b392a347f582b2836950d36053a67c16ca
0	2	\\xd5a1f74a7984953a55d78afe270ab109302bb9e9f634d82f1f34d25dbb14d9fd
0	3	\\x524f46e638f79e6ea23071cf161f4006eb3becf7685c8a57d1738c4de3cd062f
1	1	\\x2dbd2d91be6ad1c1f9e1a1bb06336a287ba687fcdb8dc0ba66690f3ade10173f
2	0	\\x56f1a40416bea2f296decfa134ab35bd1d75f47df87c221ae055757b0401c110
0	4	\\xec8264363b7a8a65b8cb476edf70e99b1c74c430394242eec7ce6dcb6e8c7101
0	5	\\xbb48300f123aa5da5f69cdcf0988410f04143399ae8c2e70ff0bb95fdd7efac5
1	2	\\xc706edcd904245d22ea53e8c0a686fc8218cf01df08885344fcf0785c74ad83c
0	6	\\x6d8b7c67e929e83d4db7b3d8e42b8e1e42095c19e3a965fc398035d076c4b70e
0	7	\\x22ffcf318d2a8ebef888a9efb01c266f62e2b560fbdbd55c78d2674f6b91ba87
1	3	\\x9f67b99c34e27fb7523064cc31201a21a8b43dff4220670d07c779f5f800cbb8
2	1	\\x9b34291ad765fa0c1827e4e3e4d26115fb9bf1d1a18f559fa928e85277b8d4fe
3	0	\\x6f94075387dc75753418927e53897f7b4222b45e8b5c8df4702cea7ead15c24c
0	8	\\x92032620d77c1643f26a6bfbb00ab4ceedc32bdd54a4d3181024f6d6f7fc6c89
0	9	\\x0d4c07c4704563ea32f6a49f3ed4f742faedeaafa2cbad9fff1a1deb99fe19c0
1	4	\\xcdf4a9e8f1b9bb1e50a4b1305ca4e121a498d7a7f84edd4d31538298d2fe4b73
0	10	\\xc3153fcaf02d42f315854eff29e940506a5afe24c6a99157bb21296e588432de
0	11	\\x3b53fada59abcaab3bc8c5c37be73386e4f880023311a1e1fc0dbd5b72bfb9b0
1	5	\\x8df268bafb3739aaa4b7a810db973b209fe7e112c6d4113335819e9d0830c5bb
2	2	\\x613aaea1cdcaa25975311950be025212ab511126b29194c57d3029c0360086aa
0	12	\\xda0aa912ce9024439fb63917f47aa12aa4b1e63909a1f2f1d134d792c2afd4f7
0	13	\\x2a7420ff60b4c37e1592bbde0bc0219d92dd14ba81204aa5d24f3d147b7a7bbb
1	6	\\x317a08fc4a894d6fd779accb9044bdcdbe74da96497fe5abd12aa8476e5c94b0
0	14	\\x3d11f02b2b7d994e152d1d24d4f1c1e4735b2669afe3bf2c7499318fa467e938
0	15	\\x9148afcc8c1678364d63c6e8cc475ad89e73bb686af09ae656ca0ed458491d07
1	7	\\xd3e116192c0c2cbce6ef7286856d057609b2a03833b2a52a7813ff506978ed20
2	3	\\x71fa6dfa065e69d7841403112608b733f185a0eb875347f6c44516bf419a3346
3	1	\\xe68b791735d8d25e4739927cd1099e0f744748761be467a4821ce91c876cd1bc
4	0	\\xe132db70317912c6885218986d7f9cd1ec9703e8a607346ad94a52dc134c9fb5
0	16	\\xba9a64be2f0610900b1f42eb58e335e0007c9efa2a922178118e829548336703
0	17	\\xc1129e71d19ba8a70421505a1eed236e8e1369babee33b5fa26fa2721797f436
1	8	\\x489a8bc55150aa2f4c5bb876e3578ec8521a5d71b660d4beb02d4b1ec3b3ef00
0	18	\\xc8c3b9976327de15f131f2bdf0cf65259d7742c127feb53bc64a682b6ead1682
0	19	\\x237e8b541e8010cf79f74f6e76a11c133dfbae5757f83a28b96ce0e5a280a8ed
1	9	\\x9a7a53e2a76fb81d90dee6acf2ab1cf0e6ca3b9c580d186376cace0d1c8b6678
2	4	\\x0a641054e94af95cbf46d574c56187ee600d7a4a3260ac21525a37542a1c0822
0	20	\\xe7a406bf73f85202781c37933ddd942bf038ce0183e1db37725e4b39f511a47e
0	21	\\xf9fccdb2d430bef7f0f128bf0706788ca8392ece0f48dda3608131dea32748f0
1	10	\\x54a91a999e8eb9b4767b586315938bb259bfe9496a0e6c66deac83635a7a75d1
0	22	\\x168c634a89ac17547de14ac1ae24e1ac6e2a81595abe2d18206b1fbe6098f219
0	23	\\x7a2d7eb6ed818069f3dfc8644e884ffde3f7d079548dd1c2b57faad2081442ee
1	11	\\x16208823e3eda8461d1f7ff71541c8e9802acf54d99727b51d0333605ad5ed9e
2	5	\\x485d0f150152bd205c905f4417e5eb2331534392d0b14415169e35f652f92dc2
3	2	\\x12bd69f2c8e91b6f4e261108b30effa56a88434ec3122a0ce80adbc88701dfbf
0	24	\\xd803f54116878d2c136b67879c2beb82dd74236a1de70334c8631e45a0d603d8
0	25	\\x1939454d8ac5407055892063e9c7519487503246e3124f6928cc43c8a68691c6
1	12	\\xa04857e9de0d895fc262eff1b3586739cf65d07648a3b090c3a46dd8ad42ce08
0	26	\\x86a9a11c67e21f78070e1e46a53181af9fe6fc68b74ea6172fbcaa36361bd5b5
\.


--
-- Data for Name: vault_events; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.vault_events (originator_id, originator_version, topic, state, notification_id) FROM stdin;
d05832f4-3ead-56f8-b045-1de0bbbad76b	1	domain.space:Space.Provisioned	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3734383230372b30303a3030227d2c226f726967696e61746f725f746f706963223a22646f6d61696e2e73706163653a5370616365222c2270617469656e745f6964223a22323837303637353030303330313033222c226b65795f6964223a2273706b5f3836343761613266636332643434323262366531386666356264343565333630222c227075626c69635f6b6579223a2278703276557970442f2f72342b6f6d516a5935723331796f3173725549764a677863437742334b384641413d222c226163746f72223a7b22726f6c65223a2273657276696365222c226964223a226368752d6c796f6e222c226e616d65223a22434855206465204c796f6e222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a22434855206465204c796f6e227d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30332d30325430393a30303a30302b30303a3030227d7d	1
d05832f4-3ead-56f8-b045-1de0bbbad76b	2	domain.space:Space.CodeIssued	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3734383239382b30303a3030227d2c22636f6465223a7b22736368656d65223a22736372797074222c226e223a343039362c2272223a382c2270223a312c2273616c74223a225363504c6336795556446274486645543977552f74773d3d222c22646967657374223a2253722f795a5a56534d49484b482b364d6f334c7a4332656e41794a683653706f39657431537745705867553d227d2c226163746f72223a7b22726f6c65223a2273657276696365222c226964223a226368752d6c796f6e222c226e616d65223a22434855206465204c796f6e222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a22434855206465204c796f6e227d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30332d30325430393a30303a30302b30303a3030227d7d	2
d05832f4-3ead-56f8-b045-1de0bbbad76b	3	domain.space:Space.OpeningScheduled	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3734383331392b30303a3030227d2c226f70656e735f6174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335430393a30303a30302b30303a3030227d2c226163746f72223a7b22726f6c65223a2273657276696365222c226964223a226368752d6c796f6e222c226e616d65223a22434855206465204c796f6e222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a22434855206465204c796f6e227d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30332d30325430393a30303a30302b30303a3030227d7d	3
b24810b0-51ed-5692-99c6-61de468f2b5a	1	domain.space:Space.Provisioned	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3739343933392b30303a3030227d2c226f726967696e61746f725f746f706963223a22646f6d61696e2e73706163653a5370616365222c2270617469656e745f6964223a22313835303537353030303330323337222c226b65795f6964223a2273706b5f3865363435396133393238303464333639343730306633346138663463336439222c227075626c69635f6b6579223a224d555562654d396459576a55595a34304d653853335072434138485978713747572f32722b3764343945553d222c226163746f72223a7b22726f6c65223a2273657276696365222c226964223a226368752d6c796f6e222c226e616d65223a22434855206465204c796f6e222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a22434855206465204c796f6e227d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30332d30325430393a30303a30302b30303a3030227d7d	4
b24810b0-51ed-5692-99c6-61de468f2b5a	2	domain.space:Space.CodeIssued	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3739353134352b30303a3030227d2c22636f6465223a7b22736368656d65223a22736372797074222c226e223a343039362c2272223a382c2270223a312c2273616c74223a22672f4c3369316668547261673264576e4e4d756550413d3d222c22646967657374223a22496a6b7553316674435774315534796130464f6b4e68737055436c6954364666517a3377465062446b45633d227d2c226163746f72223a7b22726f6c65223a2273657276696365222c226964223a226368752d6c796f6e222c226e616d65223a22434855206465204c796f6e222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a22434855206465204c796f6e227d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30332d30325430393a30303a30302b30303a3030227d7d	5
b24810b0-51ed-5692-99c6-61de468f2b5a	3	domain.space:Space.OpeningScheduled	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3739353137352b30303a3030227d2c226f70656e735f6174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335430393a30303a30302b30303a3030227d2c226163746f72223a7b22726f6c65223a2273657276696365222c226964223a226368752d6c796f6e222c226e616d65223a22434855206465204c796f6e222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a22434855206465204c796f6e227d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30332d30325430393a30303a30302b30303a3030227d7d	6
31837967-4893-5136-b58c-71b7582f2aac	1	domain.space:Space.Provisioned	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3832343036372b30303a3030227d2c226f726967696e61746f725f746f706963223a22646f6d61696e2e73706163653a5370616365222c2270617469656e745f6964223a22313835303537353030303330333336222c226b65795f6964223a2273706b5f3262363765613863333932343432653262313132376339633664636331626435222c227075626c69635f6b6579223a224f2f7751436d596c354d5a733163426d38505453754572726b726d796f4e686e48352f30486b6e614b77593d222c226163746f72223a7b22726f6c65223a2273657276696365222c226964223a226368752d6c796f6e222c226e616d65223a22434855206465204c796f6e222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a22434855206465204c796f6e227d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30332d30325430393a30303a30302b30303a3030227d7d	7
31837967-4893-5136-b58c-71b7582f2aac	2	domain.space:Space.CodeIssued	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3832343136372b30303a3030227d2c22636f6465223a7b22736368656d65223a22736372797074222c226e223a343039362c2272223a382c2270223a312c2273616c74223a22355235654664706a55356e6666357932504b694f57413d3d222c22646967657374223a224a596e7749646355646f7371735835772b5a5a722f3838453755734d457677757550553244684e323549733d227d2c226163746f72223a7b22726f6c65223a2273657276696365222c226964223a226368752d6c796f6e222c226e616d65223a22434855206465204c796f6e222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a22434855206465204c796f6e227d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30332d30325430393a30303a30302b30303a3030227d7d	8
31837967-4893-5136-b58c-71b7582f2aac	3	domain.space:Space.OpeningScheduled	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3832343139372b30303a3030227d2c226f70656e735f6174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335430393a30303a30302b30303a3030227d2c226163746f72223a7b22726f6c65223a2273657276696365222c226964223a226368752d6c796f6e222c226e616d65223a22434855206465204c796f6e222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a22434855206465204c796f6e227d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30332d30325430393a30303a30302b30303a3030227d7d	9
29b88c98-3157-52e3-8b26-5ad8b9a156d9	1	domain.reader:Reader.Created	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3833303037332b30303a3030227d2c226f726967696e61746f725f746f706963223a22646f6d61696e2e7265616465723a526561646572222c22726f6c65223a2270726f66657373696f6e616c222c226163746f725f6964223a223130303030303030313136227d	10
29b88c98-3157-52e3-8b26-5ad8b9a156d9	2	domain.reader:Reader.KeyRegistered	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3833303136352b30303a3030227d2c226b65795f6964223a223838373636663531346535383832326662343435613533386562326536663263222c227075626c69635f6b6579223a224f326a674d6d6c686f494a637344762f725a376d6d365146317066535859566e4673386d2f4c456a646d343d222c226163746f72223a7b22726f6c65223a2270726f66657373696f6e616c222c226964223a223130303030303030313136222c226e616d65223a22447220447572616e64222c2270726f66657373696f6e223a22646f63746f72222c226f7267616e69736174696f6e223a22436162696e6574227d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335430393a30313a30302b30303a3030227d7d	11
f0251cce-5e13-59b9-9ae1-fa9c4fff8c56	1	domain.reader:Reader.Created	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3833333534392b30303a3030227d2c226f726967696e61746f725f746f706963223a22646f6d61696e2e7265616465723a526561646572222c22726f6c65223a2270617469656e74222c226163746f725f6964223a22323837303637353030303330313033227d	12
f0251cce-5e13-59b9-9ae1-fa9c4fff8c56	2	domain.reader:Reader.KeyRegistered	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3833333632382b30303a3030227d2c226b65795f6964223a223965343337386236316231326238666338393337363366633930623936633439222c227075626c69635f6b6579223a226454556449547853616c415233595437616a645230596a5232704e7667485132665852566d3372625a53453d222c226163746f72223a7b22726f6c65223a2270617469656e74222c226964223a22323837303637353030303330313033222c226e616d65223a2250617469656e7420313033222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a6e756c6c7d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335430393a30313a30302b30303a3030227d7d	13
058ee419-55cf-5617-8e8a-b1f34f87fe37	1	domain.reader:Reader.Created	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3833373131362b30303a3030227d2c226f726967696e61746f725f746f706963223a22646f6d61696e2e7265616465723a526561646572222c22726f6c65223a2270617469656e74222c226163746f725f6964223a22313835303537353030303330323337227d	14
058ee419-55cf-5617-8e8a-b1f34f87fe37	2	domain.reader:Reader.KeyRegistered	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3833373139352b30303a3030227d2c226b65795f6964223a226534363734623239396436303538616266366664613365353635376636356566222c227075626c69635f6b6579223a22676e3936523141474834597864784f634965446e33524f4b47587931684e654e49783351685a6d476877773d222c226163746f72223a7b22726f6c65223a2270617469656e74222c226964223a22313835303537353030303330323337222c226e616d65223a2250617469656e7420323337222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a6e756c6c7d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335430393a30313a30302b30303a3030227d7d	15
d9ea1bfb-e559-5ee1-afd4-94dfaaa615fa	1	domain.reader:Reader.Created	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3834303132312b30303a3030227d2c226f726967696e61746f725f746f706963223a22646f6d61696e2e7265616465723a526561646572222c22726f6c65223a2270617469656e74222c226163746f725f6964223a22313835303537353030303330333336227d	16
d9ea1bfb-e559-5ee1-afd4-94dfaaa615fa	2	domain.reader:Reader.KeyRegistered	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3834303230332b30303a3030227d2c226b65795f6964223a226133393966643264353934336133346334633265306635663136653030356131222c227075626c69635f6b6579223a22435053334e684f2f57334a6e7a3552475156426f4f59734a71707571526b4e7a59664b457a7543523254733d222c226163746f72223a7b22726f6c65223a2270617469656e74222c226964223a22313835303537353030303330333336222c226e616d65223a2250617469656e7420333336222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a6e756c6c7d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335430393a30313a30302b30303a3030227d7d	17
d05832f4-3ead-56f8-b045-1de0bbbad76b	4	domain.space:Space.Deposited	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3835393139332b30303a3030227d2c22646f63756d656e745f6964223a7b225f747970655f223a22757569645f686578222c225f646174615f223a226266306436356335313264323465303661656332313434616430343430343064227d2c2276657273696f6e223a312c2274797065223a226c61625f726573756c74222c227469746c65223a2242696c616e2073616e6775696e222c2264617465223a22323032362d31302d3330222c22626c6f62223a226431666130363466313138643465643562363033666533376564616362383966222c2273697a65223a37392c22736861323536223a2234343230333162653130353032633234306463313637376433376635393031646130313438633632306230333463343432353531363832356139346664346562222c227365616c65645f6b6579223a22764f5942516e6b534f4c766b2f58414936386a70347271344b584c6a74434a52506c627a6f65776d77786c627a496c372b2b4a7a5778453164364d7a444b79543074383667367a2b2b3745387a377837692f78775058634b684d4d4e772b5166304d4c497a4b48754665773d222c22617574686f72223a7b22726f6c65223a2273657276696365222c226964223a226368752d6c796f6e222c226e616d65223a22434855206465204c796f6e222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a22434855206465204c796f6e227d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335430393a30313a30302b30303a3030227d7d	18
d05832f4-3ead-56f8-b045-1de0bbbad76b	5	domain.space:Space.Deposited	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3839333830392b30303a3030227d2c22646f63756d656e745f6964223a7b225f747970655f223a22757569645f686578222c225f646174615f223a223334366136633135636130353434323862643530313564353735393465393237227d2c2276657273696f6e223a312c2274797065223a226c61625f726573756c74222c227469746c65223a2242696c616e2073616e6775696e222c2264617465223a22323032362d31302d3330222c22626c6f62223a223736613136323565653138373462363738313665353463376562373635666635222c2273697a65223a37392c22736861323536223a2262323265636166653431393564353836663934396438383636376564646534353463323237346662373936306165613739653065313432336139363061363934222c227365616c65645f6b6579223a2270716178587561633857756848724e4a5a583274456e726275656d71624a6f57424b56687459323569546242357a534942656e3371416f764e4e653737724b354c346d78713974507645592f66494566396a7879386e3864372b76386b697a70744e64383546666d4e65733d222c22617574686f72223a7b22726f6c65223a2273657276696365222c226964223a226368752d6c796f6e222c226e616d65223a22434855206465204c796f6e222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a22434855206465204c796f6e227d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335430393a30313a30302b30303a3030227d7d	19
31837967-4893-5136-b58c-71b7582f2aac	4	domain.space:Space.Deposited	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3934363534352b30303a3030227d2c22646f63756d656e745f6964223a7b225f747970655f223a22757569645f686578222c225f646174615f223a226235376339356362383735613463346639616162373166366333396235613532227d2c2276657273696f6e223a312c2274797065223a226c61625f726573756c74222c227469746c65223a2242696c616e2073616e6775696e222c2264617465223a22323032362d31302d3330222c22626c6f62223a223031356666333262636630653433336562643637333535623931313963383939222c2273697a65223a37392c22736861323536223a2230646239346432303863396133396264326263383532393663366137343765353262633532613464633465316638626161306331313861623537643338326161222c227365616c65645f6b6579223a224a56413273745431756170696b356e6973796635386d30525272445766726a2f544e48306f72313443484c43746f78534c487a42566c59686f686c4572654e38786165667276776f414d4d5a702b6c5357444b725a4f3835552f77307836506745674b34426374387554343d222c22617574686f72223a7b22726f6c65223a2273657276696365222c226964223a226368752d6c796f6e222c226e616d65223a22434855206465204c796f6e222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a22434855206465204c796f6e227d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335430393a30313a30302b30303a3030227d7d	22
d05832f4-3ead-56f8-b045-1de0bbbad76b	6	domain.space:Space.Granted	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3936343432362b30303a3030227d2c226772616e745f6964223a7b225f747970655f223a22757569645f686578222c225f646174615f223a226535663432643639643331613461343339303632346133376330303765663130227d2c226772616e746565223a7b22726f6c65223a2270726f66657373696f6e616c222c226964223a223130303030303030313136222c226e616d65223a22447220447572616e64222c2270726f66657373696f6e223a22646f63746f72222c226f7267616e69736174696f6e223a22436162696e6574227d2c2273636f7065223a7b226b696e64223a227370616365222c227479706573223a5b5d2c22646f63756d656e7473223a5b5d7d2c22657870697265735f6174223a6e756c6c2c226163746f72223a7b22726f6c65223a2270617469656e74222c226964223a22323837303637353030303330313033222c226e616d65223a2250617469656e7420313033222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a6e756c6c7d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335430393a30313a30302b30303a3030227d7d	24
b24810b0-51ed-5692-99c6-61de468f2b5a	4	domain.space:Space.Deposited	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3931333534302b30303a3030227d2c22646f63756d656e745f6964223a7b225f747970655f223a22757569645f686578222c225f646174615f223a223662373266656462366563303439343262306239336237353431663732353339227d2c2276657273696f6e223a312c2274797065223a226c61625f726573756c74222c227469746c65223a2242696c616e2073616e6775696e222c2264617465223a22323032362d31302d3330222c22626c6f62223a223533313461636462333833623439616539343936653636336434316161353535222c2273697a65223a37392c22736861323536223a2264656162316563626164303261663532626265376535656639373432636639346538363964366264343434633931303837373066653531356332316631323536222c227365616c65645f6b6579223a224a4b6849666f6a644d4c61706a5058326e534f2f665969584957796870746e4f307678443971386273475073394256434774325762784f494734627a4c446c6e554b75595251546d53392b68596b747453532f2f4b3474623561554642424a792f6771334d5734496b51383d222c22617574686f72223a7b22726f6c65223a2273657276696365222c226964223a226368752d6c796f6e222c226e616d65223a22434855206465204c796f6e222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a22434855206465204c796f6e227d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335430393a30313a30302b30303a3030227d7d	20
31837967-4893-5136-b58c-71b7582f2aac	5	domain.space:Space.Deposited	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3935393933332b30303a3030227d2c22646f63756d656e745f6964223a7b225f747970655f223a22757569645f686578222c225f646174615f223a223131646439656235386530303438343639666336346630376566666131336532227d2c2276657273696f6e223a312c2274797065223a226c61625f726573756c74222c227469746c65223a2242696c616e2073616e6775696e222c2264617465223a22323032362d31302d3330222c22626c6f62223a223137623832616132353963653431376538613935393030656136363162623563222c2273697a65223a37392c22736861323536223a2234343933393637303330656237303166623064386539666634303236613161326663363862326536306262656237663338633338633830653565353539636539222c227365616c65645f6b6579223a2237385752427448413342756f7a49423541366c4e67546d474c566c476e764f61496f58627a506b664748307672674e6431765279334e4d794b39674a325378436f7358616664612f43544779786b2b6b636451474f6630356d7051352f774a515678334847507a4c3130553d222c22617574686f72223a7b22726f6c65223a2273657276696365222c226964223a226368752d6c796f6e222c226e616d65223a22434855206465204c796f6e222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a22434855206465204c796f6e227d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335430393a30313a30302b30303a3030227d7d	23
b24810b0-51ed-5692-99c6-61de468f2b5a	5	domain.space:Space.Deposited	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35332e3933303632332b30303a3030227d2c22646f63756d656e745f6964223a7b225f747970655f223a22757569645f686578222c225f646174615f223a226437343764393338363230393466336638653637353836366337326536636431227d2c2276657273696f6e223a312c2274797065223a226c61625f726573756c74222c227469746c65223a2242696c616e2073616e6775696e222c2264617465223a22323032362d31302d3330222c22626c6f62223a223930373837373931313262303463386261343863303939653633383434373839222c2273697a65223a37392c22736861323536223a2262386334393530353433326465306633616563633730623762373335333164376663653635623938396162656539333139626436633365366661376636306630222c227365616c65645f6b6579223a224b79504a4d5a39387a6a63574f6f635946614f6a43756c694532486a65627a314357614f573251714b436b5a4a364a64684b2f546c6361394d34476b6978532f7530776f79435a6f3261302b45633747654e787649537731646544572b5969375478457257556b436338413d222c22617574686f72223a7b22726f6c65223a2273657276696365222c226964223a226368752d6c796f6e222c226e616d65223a22434855206465204c796f6e222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a22434855206465204c796f6e227d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335430393a30313a30302b30303a3030227d7d	21
02b32bfe-6277-4d32-be75-c9c7b4f5f1eb	1	domain.access:Access.Read	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35342e3039373832302b30303a3030227d2c226f726967696e61746f725f746f706963223a22646f6d61696e2e6163636573733a416363657373222c2273706163655f6964223a7b225f747970655f223a22757569645f686578222c225f646174615f223a226430353833326634336561643536663862303435316465306262626164373662227d2c22646f63756d656e745f6964223a7b225f747970655f223a22757569645f686578222c225f646174615f223a226266306436356335313264323465303661656332313434616430343430343064227d2c2276657273696f6e223a312c22726561646572223a7b22726f6c65223a2270726f66657373696f6e616c222c226964223a223130303030303030313136222c226e616d65223a22447220447572616e64222c2270726f66657373696f6e223a22646f63746f72222c226f7267616e69736174696f6e223a22436162696e6574227d2c227265616465725f6b65795f6964223a223838373636663531346535383832326662343435613533386562326536663263222c226d6f6465223a226772616e74222c226772616e745f6964223a7b225f747970655f223a22757569645f686578222c225f646174615f223a226535663432643639643331613461343339303632346133376330303765663130227d2c2273706163655f76657273696f6e223a362c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335431303a30313a30302b30303a3030227d7d	25
31837967-4893-5136-b58c-71b7582f2aac	6	domain.space:Space.Closed	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35342e3135373239302b30303a3030227d2c22657870726573735f64656c6574696f6e223a747275652c22617263686976655f756e74696c223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323033362d30342d31335431303a30313a30302b30303a3030227d2c2264656c6574696f6e5f6475655f6174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335431303a30313a30302b30303a3030227d2c226163746f72223a7b22726f6c65223a2270617469656e74222c226964223a22313835303537353030303330333336222c226e616d65223a2250617469656e7420333336222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a6e756c6c7d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335431303a30313a30302b30303a3030227d7d	26
31837967-4893-5136-b58c-71b7582f2aac	7	domain.space:Space.Shredded	\\x7b2274696d657374616d70223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d31322d30335431303a32373a35342e3136333331392b30303a3030227d2c226b65795f6964223a2273706b5f3262363765613863333932343432653262313132376339633664636331626435222c226163746f72223a7b22726f6c65223a2273657276696365222c226964223a22636f666672652d7363686564756c6572222c226e616d65223a22436f66667265207363686564756c6572222c2270726f66657373696f6e223a6e756c6c2c226f7267616e69736174696f6e223a6e756c6c7d2c226174223a7b225f747970655f223a226461746574696d655f69736f222c225f646174615f223a22323032362d30342d31335431303a30313a30302b30303a3030227d7d	27
\.


--
-- Data for Name: view_blocks; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.view_blocks (space_id, professional_id) FROM stdin;
\.


--
-- Data for Name: view_documents; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.view_documents (document_id, space_id, type, deleted, masked, held, author_role, author_id, author_profession, deleted_at, invisible_to_representatives, visible_at, released_at) FROM stdin;
bf0d65c5-12d2-4e06-aec2-144ad044040d	d05832f4-3ead-56f8-b045-1de0bbbad76b	lab_result	0	0	0	service	chu-lyon	\N	\N	0	\N	\N
346a6c15-ca05-4428-bd50-15d57594e927	d05832f4-3ead-56f8-b045-1de0bbbad76b	lab_result	0	0	0	service	chu-lyon	\N	\N	0	\N	\N
6b72fedb-6ec0-4942-b0b9-3b7541f72539	b24810b0-51ed-5692-99c6-61de468f2b5a	lab_result	0	0	0	service	chu-lyon	\N	\N	0	\N	\N
d747d938-6209-4f3f-8e67-5866c72e6cd1	b24810b0-51ed-5692-99c6-61de468f2b5a	lab_result	0	0	0	service	chu-lyon	\N	\N	0	\N	\N
b57c95cb-875a-4c4f-9aab-71f6c39b5a52	31837967-4893-5136-b58c-71b7582f2aac	lab_result	1	0	0	service	chu-lyon	\N	2026-04-13 10:01:00+00	0	\N	\N
11dd9eb5-8e00-4846-9fc6-4f07effa13e2	31837967-4893-5136-b58c-71b7582f2aac	lab_result	1	0	0	service	chu-lyon	\N	2026-04-13 10:01:00+00	0	\N	\N
\.


--
-- Data for Name: view_emergencies; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.view_emergencies (access_id, space_id, professional_id, professional_name, professional_profession, started_at, expires_at, ended_at) FROM stdin;
\.


--
-- Data for Name: view_grants; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.view_grants (grant_id, space_id, grantee_id, grantee_name, grantee_profession, scope_kind, scope_types, scope_documents, granted_at, expires_at, revoked_at, care_team) FROM stdin;
e5f42d69-d31a-4a43-9062-4a37c007ef10	d05832f4-3ead-56f8-b045-1de0bbbad76b	10000000116	Dr Durand	doctor	space	[]	[]	2026-04-13 09:01:00+00	\N	\N	0
\.


--
-- Data for Name: view_space_settings; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.view_space_settings (space_id, patient_id, status, emergency_forbidden, emergency_reveals_masked, attending_physician_sees_masked, attending_physician_id, opens_at) FROM stdin;
d05832f4-3ead-56f8-b045-1de0bbbad76b	287067500030103	pending	0	0	0	\N	2026-04-13 09:00:00+00
b24810b0-51ed-5692-99c6-61de468f2b5a	185057500030237	pending	0	0	0	\N	2026-04-13 09:00:00+00
31837967-4893-5136-b58c-71b7582f2aac	185057500030336	deleted	0	0	0	\N	2026-04-13 09:00:00+00
\.


--
-- Data for Name: view_tracking; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.view_tracking (application_name, notification_id) FROM stdin;
__migration__	1
access_log	27
trail	27
notifications	27
access_views_facts	27
\.


--
-- Data for Name: yoyo_lock; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.yoyo_lock (locked, ctime, pid) FROM stdin;
\.


--
-- Name: vault_events_notification_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.vault_events_notification_id_seq', 27, true);


--
-- Name: _yoyo_log _yoyo_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public._yoyo_log
    ADD CONSTRAINT _yoyo_log_pkey PRIMARY KEY (id);


--
-- Name: _yoyo_migration _yoyo_migration_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public._yoyo_migration
    ADD CONSTRAINT _yoyo_migration_pkey PRIMARY KEY (migration_hash);


--
-- Name: _yoyo_version _yoyo_version_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public._yoyo_version
    ADD CONSTRAINT _yoyo_version_pkey PRIMARY KEY (version);


--
-- Name: access_log_documents access_log_documents_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.access_log_documents
    ADD CONSTRAINT access_log_documents_pkey PRIMARY KEY (document_id);


--
-- Name: access_log_grants access_log_grants_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.access_log_grants
    ADD CONSTRAINT access_log_grants_pkey PRIMARY KEY (grant_id);


--
-- Name: access_log access_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.access_log
    ADD CONSTRAINT access_log_pkey PRIMARY KEY (entry_id);


--
-- Name: coffre_space_keys coffre_space_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.coffre_space_keys
    ADD CONSTRAINT coffre_space_keys_pkey PRIMARY KEY (key_id);


--
-- Name: notification_acks notification_acks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_acks
    ADD CONSTRAINT notification_acks_pkey PRIMARY KEY (recipient_role, recipient_id);


--
-- Name: notification_readers notification_readers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_readers
    ADD CONSTRAINT notification_readers_pkey PRIMARY KEY (space_id, reader_id);


--
-- Name: notification_spaces notification_spaces_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_spaces
    ADD CONSTRAINT notification_spaces_pkey PRIMARY KEY (space_id);


--
-- Name: notifications notifications_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_pkey PRIMARY KEY (recipient_role, recipient_id, entry_id);


--
-- Name: projection_failures projection_failures_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.projection_failures
    ADD CONSTRAINT projection_failures_pkey PRIMARY KEY (name);


--
-- Name: trail_chains trail_chains_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trail_chains
    ADD CONSTRAINT trail_chains_pkey PRIMARY KEY (chain);


--
-- Name: trail_checkpoints trail_checkpoints_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trail_checkpoints
    ADD CONSTRAINT trail_checkpoints_pkey PRIMARY KEY (size);


--
-- Name: trail_entries trail_entries_notification_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trail_entries
    ADD CONSTRAINT trail_entries_notification_id_key UNIQUE (notification_id);


--
-- Name: trail_entries trail_entries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trail_entries
    ADD CONSTRAINT trail_entries_pkey PRIMARY KEY (leaf_index);


--
-- Name: trail_format trail_format_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trail_format
    ADD CONSTRAINT trail_format_pkey PRIMARY KEY (id);


--
-- Name: trail_heads trail_heads_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trail_heads
    ADD CONSTRAINT trail_heads_pkey PRIMARY KEY (level, idx);


--
-- Name: trail_nodes trail_nodes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trail_nodes
    ADD CONSTRAINT trail_nodes_pkey PRIMARY KEY (level, idx);


--
-- Name: vault_events vault_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.vault_events
    ADD CONSTRAINT vault_events_pkey PRIMARY KEY (originator_id, originator_version);


--
-- Name: view_blocks view_blocks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.view_blocks
    ADD CONSTRAINT view_blocks_pkey PRIMARY KEY (space_id, professional_id);


--
-- Name: view_documents view_documents_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.view_documents
    ADD CONSTRAINT view_documents_pkey PRIMARY KEY (document_id);


--
-- Name: view_emergencies view_emergencies_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.view_emergencies
    ADD CONSTRAINT view_emergencies_pkey PRIMARY KEY (access_id);


--
-- Name: view_grants view_grants_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.view_grants
    ADD CONSTRAINT view_grants_pkey PRIMARY KEY (grant_id);


--
-- Name: view_space_settings view_space_settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.view_space_settings
    ADD CONSTRAINT view_space_settings_pkey PRIMARY KEY (space_id);


--
-- Name: view_tracking view_tracking_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.view_tracking
    ADD CONSTRAINT view_tracking_pkey PRIMARY KEY (application_name);


--
-- Name: yoyo_lock yoyo_lock_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.yoyo_lock
    ADD CONSTRAINT yoyo_lock_pkey PRIMARY KEY (locked);


--
-- Name: access_log_page; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX access_log_page ON public.access_log USING btree (space_id, entry_id DESC) INCLUDE (at, actor_role, actor_id, actor_name, actor_profession, actor_organisation, action, document_id, how, outcome, reason, detail);


--
-- Name: coffre_space_keys_master; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX coffre_space_keys_master ON public.coffre_space_keys USING btree (master_key_id, key_id) WHERE (master_key_id IS NOT NULL);


--
-- Name: coffre_space_keys_space; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX coffre_space_keys_space ON public.coffre_space_keys USING btree (space_id);


--
-- Name: notifications_by_document; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notifications_by_document ON public.notifications USING btree (document_id);


--
-- Name: trail_chains_by_bucket; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX trail_chains_by_bucket ON public.trail_chains USING btree (bucket);


--
-- Name: trail_entries_by_actor; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX trail_entries_by_actor ON public.trail_entries USING btree (actor_id, leaf_index);


--
-- Name: trail_entries_by_space; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX trail_entries_by_space ON public.trail_entries USING btree (space_id, leaf_index);


--
-- Name: trail_entries_by_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX trail_entries_by_time ON public.trail_entries USING btree (at, leaf_index);


--
-- Name: vault_events_notification_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX vault_events_notification_id_idx ON public.vault_events USING btree (notification_id);


--
-- Name: view_documents_by_space; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX view_documents_by_space ON public.view_documents USING btree (space_id);


--
-- Name: view_emergencies_by_space; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX view_emergencies_by_space ON public.view_emergencies USING btree (space_id);


--
-- Name: view_grants_by_grantee; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX view_grants_by_grantee ON public.view_grants USING btree (grantee_id);


--
-- Name: view_grants_by_space; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX view_grants_by_space ON public.view_grants USING btree (space_id);


--
-- Name: vault_events vault_events_append_only; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER vault_events_append_only BEFORE DELETE OR UPDATE ON public.vault_events FOR EACH ROW EXECUTE FUNCTION public.coffre_refuse_event_change();


--
-- Name: vault_events vault_events_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER vault_events_no_truncate BEFORE TRUNCATE ON public.vault_events FOR EACH STATEMENT EXECUTE FUNCTION public.coffre_refuse_event_change();


--
-- PostgreSQL database dump complete
--

\unrestrict vaoUe7eXipVKbzvuC4Lt2wvxiSYfpuomD1wL5q2TzXRd553aELZOPv3zXBnAB9T

