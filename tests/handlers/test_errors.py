"""The one path a refusal's text takes to Slack: its words escaped, its mentions and links made by the product."""

from __future__ import annotations

from bot.services.errors import Link, ServiceError, channel_mention, mention
from handlers.errors import refusal_text, user_message


def test_a_refusal_escapes_the_names_a_user_typed():
    refused = ServiceError("no release policy applies to <!channel> x & <@U0ZZZZZZ>: store one")
    assert refusal_text(refused) == "no release policy applies to &lt;!channel&gt; x &amp; &lt;@U0ZZZZZZ&gt;: store one"
    assert user_message(refused, "e1") == refusal_text(refused)


def test_the_people_channels_and_links_a_refusal_names_by_id_stay_mentions():
    refused = ServiceError("Only the release lead of review <#1>, ", mention("U0LEAD01"), ", can close it in ",
                           channel_mention("C0REVIEW"), ". See ", Link("https://x.example/p?a=1|b>", "the <page>"), ".")
    assert refusal_text(refused) == ("Only the release lead of review &lt;#1&gt;, <@U0LEAD01>, can close it in "
                                     "<#C0REVIEW>. See <https://x.example/p?a=1%7Cb%3E|the &lt;page&gt;>.")


def test_what_is_not_a_slack_id_is_never_made_a_mention():
    refused = ServiceError("Only ", mention("<!channel>"), " can decide.")
    assert refusal_text(refused) == "Only &lt;!channel&gt; can decide."


def test_a_form_fields_error_is_plain_text_and_shows_the_words_as_typed():
    refused = ServiceError("No evidence for <!channel> x; ask ", mention("U0LEAD01"), ".")
    assert user_message(refused, "e1", plain=True) == "No evidence for <!channel> x; ask <@U0LEAD01>."
    assert str(refused) == "No evidence for <!channel> x; ask <@U0LEAD01>."
