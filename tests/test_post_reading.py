"""Posts as a reader reads them, on pages with the faults real pages showed when rendered
(../shared/data: fundus-news-pages, zyte-article-extraction): each page here is synthetic,
reproducing one real page's fault, and is checked through extraction to the rendered post."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.delivery.render import render_post
from bot.text.summarize import summarize
from scrapers.extract import extract_article
from scrapers.models import Article

NOW = datetime(2026, 1, 1, tzinfo=UTC)
STORY = (
    "<p>The documents, unsealed on Wednesday by a federal judge in New York, run to nearly three "
    "thousand pages of depositions, emails and flight records gathered over many years.</p>"
    "<p>Lawyers for several of the people named said the papers added little to what was already "
    "known, while others asked the court to keep parts of them sealed for now.</p>"
)


def _page(*, ld: dict, body: str) -> str:
    """Return a synthetic article page with this JSON-LD object and body."""
    script = f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    return (
        f"<!DOCTYPE html><html><head>{script}</head><body><article>{body}</article></body></html>"
    )


def _post(article: Article) -> str:
    """Return the post's HTML as the channel gets it (summary as enrichment makes it)."""
    summary = summarize(
        title=article.title, lead=article.lead, body=article.body, max_chars=600, lang="en"
    )
    return render_post(article, source_name="Nine News", zone="UTC", summary=summary).html


def test_a_json_ld_description_holding_escaped_html_reads_as_its_words() -> None:
    # Synthetic page reproducing 9news.com.au (au_NineNews_2024_05_02): its JSON-LD description
    # is HTML escaped once more; the post showed "<p>Here&#x27;s a look …</p>" to readers.
    title = "Nearly 3000 pages of Jeffrey Epstein documents released"
    lead = (
        "<p>Here&#x27;s a look at what we know — and what we don&#x27;t — about the sex "
        "offender and his crimes.<br/>And what comes next.</p>"
    )
    page = _page(
        ld={"@type": "NewsArticle", "headline": title, "description": lead},
        body=f"<h1>{title}</h1>{STORY}",
    )
    article = extract_article(page, url="https://www.9news.com.au/world/epstein/1", now=NOW)
    assert article.lead == (
        "Here's a look at what we know — and what we don't — about the sex offender and his "
        "crimes. And what comes next."
    )
    post = _post(article)
    assert "Here's a look at what we know" in post
    assert "&lt;p&gt;" not in post and "#x27" not in post


def test_angle_brackets_that_are_words_stay_in_a_description() -> None:
    # Synthetic: a theatre's blog (jeongdongtheater.com) names its show "<The Palace>".
    title = "More reviews from our visitors"
    lead = "Visitors who came to watch &lt;The Palace: Tale of Jang Noksu&gt; left their reviews."
    page = _page(
        ld={"@type": "BlogPosting", "headline": title, "description": lead},
        body=f"<h1>{title}</h1>{STORY}",
    )
    article = extract_article(page, url="https://theatre.example/blog/reviews", now=NOW)
    assert article.lead.startswith("Visitors who came to watch <The Palace: Tale of Jang Noksu>")
    assert "&lt;The Palace: Tale of Jang Noksu&gt;" in _post(article)  # escaped once, for HTML


def test_a_summary_starts_at_the_prose_after_an_opening_list_of_key_points() -> None:
    # Synthetic page reproducing dailymail.co.uk (uk_DailyMail_2024_04_27): three unpunctuated
    # key points open the body; joined, the post read "- Currency collectors … - Two batches …
    # found Think twice before…" as one sentence.
    title = "Your $1 bill could be worth thousands"
    points = [
        "Currency collectors nationwide are on hunt for some rare dollar bills",
        "Two batches of $1 bills printed in 2014 and 2016 feature a printing error",
    ]
    body = (
        f"<h1>{title}</h1><ul>{''.join(f'<li>{p}</li>' for p in points)}</ul>"
        "<p>Think twice before you spend any $1 bill in your wallet, as it could fetch thousands "
        "of dollars for you.</p><p>Currency collectors nationwide are on hunt for some rare "
        "dollar bills, willing to pay up to $150,000 for those with a specific printing error.</p>"
    )
    page = _page(ld={"@type": "NewsArticle", "headline": title}, body=body)
    article = extract_article(page, url="https://www.dailymail.co.uk/money/article-1.html", now=NOW)
    assert article.body.startswith("- Currency collectors")  # the list stays in the archive
    post = _post(article)
    assert "\n\nThink twice before you spend any $1 bill in your wallet" in post
    assert "- Currency" not in post and "error Think" not in post


def test_an_interviews_dash_and_a_punctuated_item_are_no_list_to_skip() -> None:
    body = "- What comes first this year?\n\n- The budget. Then the roads."
    assert summarize(title="Q", lead="", body=body, max_chars=300, lang="en") == (
        "The budget. Then the roads."
    )
    speech = "- Мы готовы, - сказал министр.\n\nПереговоры начнутся в среду."
    assert summarize(title="Q", lead="", body=speech, max_chars=300, lang="ru").startswith(
        "- Мы готовы"
    )
    # Nothing but list items: they are all there is to say.
    assert summarize(title="Q", lead="", body="- one item\n\n- two", max_chars=99) == (
        "- one item - two"
    )
