"""The few statements whose PostgreSQL spelling differs from SQLite's (JSON, dates, booleans)."""

from __future__ import annotations

# storage/reports.py's statistics. presswatch_json_list reads a topics or entities value as a JSON
# array, an empty one when it is broken (as SQLite's json_valid check does).
STATS = {
    "sources": """select source_key as key, count(*) as articles,
                         count(duplicate_of) as reprints,
                         min(published_at) as first, max(published_at) as last
                  from articles group by source_key order by articles desc, key""",
    "topics": """select t.value as key, count(*) as articles
                 from articles a left join lateral
                     jsonb_array_elements_text(presswatch_json_list(a.topics)) t(value) on true
                 group by t.value order by t.value is null, articles desc, key""",
    "entities": """select t.value as key, count(*) as articles
                   from articles a left join lateral
                       jsonb_array_elements_text(presswatch_json_list(a.entities)) t(value) on true
                   group by t.value order by t.value is null, articles desc, key""",
}

# storage/status.py's seconds from an article's publication to its post (NULL until sent).
POST_LAG = """case when o.sent_at is null or a.published_at is null then null
                   else greatest(0.0, extract(epoch from o.sent_at - a.published_at))::float8 end"""

# storage/probes.py's chats that share one message counter per bot (private chats, basic groups).
# A chat id is an integer or an @username; the case keeps the cast away from the usernames.
SHARED_CHATS = (
    "(case when chat_id ~ '^-?[0-9]{1,18}$' then chat_id::bigint > -1000000000000 else false end)"
)
# storage/probes.py's highest of two message ids (SQLite's two-argument max()).
HIGHER_MARK = "greatest(chat_marks.last_id, excluded.last_id)"

# The advisory lock that keeps one writing presswatch per archive (two int4 keys: "pw", 1), and
# the name its session and the pool's give themselves (storage/postgres/holder.py adds the role).
INSTANCE_LOCK = (0x7077, 1)
APPLICATION = "presswatch"

# storage/status.py's check for a `once` holding the archive (it sends with no worker row): the
# lock's session is "presswatch once pid N on HOST" (an older once's: "presswatch once").
ONCE_RUNNING = (
    "select exists (select 1 from pg_locks l join pg_stat_activity a on a.pid = l.pid "
    f"where l.locktype = 'advisory' and l.classid = {INSTANCE_LOCK[0]} "
    f"and l.objid = {INSTANCE_LOCK[1]} and l.granted "
    f"and (a.application_name = '{APPLICATION} once' "
    f"or a.application_name like '{APPLICATION} once %'))"
)

# storage/status.py's workers heard from in the last 30 s (storage/postgres/fleet.py beats).
LIVE_WORKERS = """select id, started_at, seen_at, http from workers
                  where seen_at >= now() - interval '30 seconds' order by started_at, id"""
