"""A post's declared publication date (crawler/published.py), as extract_post reports it."""

from __future__ import annotations

import pytest

from crawler.citations import extract_post
from crawler.published import iso_date


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        ('<meta property="article:published_time" content="2018-10-03T08:00:00+02:00">', "", "2018-10-03T08:00:00+02:00"),
        ('<meta name="DC.date.issued" content="2017-01-02">', "", "2017-01-02"),
        (
            '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [{"@type": "WebSite"},'
            ' {"@type": "BlogPosting", "datePublished": "2019-01-02T10:00:00Z"}]}</script>',
            "",
            "2019-01-02T10:00:00Z",
        ),
        ("", '<p>Posted <time datetime="2020-03-04">4 March</time></p>', "2020-03-04"),
        ("", '<p>Updated <time>yesterday</time>, written in 1999.</p>', None),  # no guessing from prose
        ('<meta property="article:published_time" content="last Tuesday">', "", None),
    ],
)
def test_published_date(head: str, body: str, expected: str | None) -> None:
    html = f"<html><head>{head}</head><body><article><p>Text.</p>{body}</article></body></html>"
    assert extract_post(html, "https://blog.example/p").published == expected


def test_iso_date_takes_yaml_dates_and_datetimes() -> None:
    import datetime as dt

    assert iso_date(dt.date(2023, 4, 5)) == "2023-04-05"
    assert iso_date(dt.datetime(2023, 4, 5, 6, 7, 8, tzinfo=dt.timezone.utc)) == "2023-04-05T06:07:08Z"
    assert iso_date("2023-04-05 06:07:08+01:00") == "2023-04-05T06:07:08+01:00"
    assert iso_date(12) is None
