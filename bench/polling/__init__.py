"""Polling throughput: polls per second through the real pipeline on one core, and memory over time.

Polls N feed sources served by loopback sites in another process, through the product's own path:
`bot.ingest.poll.poll_source` with the HTTP client, the poll context and a real archive file
(migrations, WAL, commits synced off the event loop) built by the composition root (`bot.app.open_app`). Half the sources answer 304 to the stored ETag;
the other half publish one new release per request: each poll gets a new ETag and a gzipped RSS
feed of the 50 newest items (full text in content:encoded, as feeds polled with fetch_pages =
false carry it), 49 already archived and one new. So a changed poll does the whole job: decode,
parse 50 items, look up which are known, build, enrich, dedupe and store the new one with its
outbox row. A third path serves the same 50 items under a new ETag and lastBuildDate, as feeds
rebuilt on every request do: decode, parse and look up, nothing to store. The config uses the
example's taxonomy and one channel, and the service's logging (INFO, formatted, to /dev/null).

Each source has its own host name (127.0.0.2, 127.0.0.3, …; the fetcher's politeness lock is per
host name, ports do not count), so per-host pacing does not serialise the bench. This process is
pinned to core 0 and the sites to core 1. Polls are driven as `run_once` does: rounds of
`asyncio.gather` over the sources. Reported: polls/s per path (median of rounds), CPU per poll,
peak RSS, and RSS every 1,000 polls of a mixed run (304 sources with the one-new-item ones, or
with the rebuilt ones: `--mix rebuilt`, where nothing is archived). The polls are checked: a 304
poll must end not_modified, a changed one ok with exactly one (or no) new article.

    python -m bench.polling [--sources 20] [--rounds 3] [--memory-polls 10000] [--mix rebuilt]
    python -m bench.polling --json ...   # rates, memory samples and the report as JSON (tests read it)
"""
