from harness.kits.strategies import parsing


def test_numbered_bullets_quotes_and_preamble():
    reply = 'Here are 3 examples:\n1. "Set an alarm for 7"\n2) - wake me up at six\n* “Cancel my meeting”\n\n'
    assert parsing.split_reply(reply, continuation=False, truncated=False) == [
        "Set an alarm for 7", "wake me up at six", "Cancel my meeting"]


def test_code_fences_are_dropped():
    reply = "```\nfirst line here\nsecond line here\n```"
    assert parsing.split_reply(reply, continuation=False, truncated=False) == ["first line here", "second line here"]


def test_truncated_last_line_dropped():
    assert parsing.split_reply("one full line\ntwo full line\nthree cut", continuation=False, truncated=True) == [
        "one full line", "two full line"]


def test_continuation_stops_when_the_list_ends():
    reply = " weka kengele saa moja\n4. nipe hali ya hewa\nThis is not part of the list\n5. nor is this"
    assert parsing.split_reply(reply, continuation=True, truncated=False) == ["weka kengele saa moja", "nipe hali ya hewa"]


def test_welsh_and_english_apostrophes_survive():
    lines = parsing.split_reply("1. Dw i'n mynd i'r siop\n2. 'Don't wake me before eight'", continuation=False,
                                truncated=False)
    assert lines == ["Dw i'n mynd i'r siop", "Don't wake me before eight"]


def test_faithful_mode_reproduces_the_reference_quirks():
    reply = "Here are examples\n1. Dw i'n mynd i'r siop.\n2. cut off"
    assert parsing.faithful_lines(reply) == ["Dw in mynd ir siop."]


def test_non_latin_scripts_parse_cleanly():
    reply = "1. ตั้งนาฬิกาปลุกตอนเจ็ดโมง\n2. «הפעל שעון מעורר בשש»\n3. ఉదయం ఆరు గంటలకు అలారం పెట్టు"
    lines = parsing.split_reply(reply, continuation=False, truncated=False)
    assert lines == ["ตั้งนาฬิกาปลุกตอนเจ็ดโมง", "הפעל שעון מעורר בשש", "ఉదయం ఆరు గంటలకు అలారం పెట్టు"]
    assert parsing.in_script(lines[0], "Thai") is True
    assert parsing.in_script(lines[1], "Hebr") is True
    assert parsing.in_script(lines[2], "Telu") is True
    assert parsing.in_script("set an alarm", "Telu") is False
    assert parsing.in_script("anything", "Zzzz") is None


def test_normalise_dedup_key():
    assert parsing.normalise("Set  an Alarm.") == parsing.normalise("set an alarm")
    assert parsing.normalise("set an alarm") != parsing.normalise("set two alarms")


def test_verdict_is_strict_about_the_first_word():
    assert parsing.verdict("Yes, it fits the label.") == "yes"
    assert parsing.verdict("**No** - it is English") == "no"
    assert parsing.verdict("Not yes: wrong language") == "unclear"
    assert parsing.verdict("yesterday I said yes") == "unclear"
    assert parsing.verdict("") == "unclear"
    assert parsing.verdict("Not yes: wrong language", faithful=True) == "yes"


def test_length_window_from_gold_lengths():
    lo, hi = parsing.length_window(list(range(20, 220)))
    assert lo <= 20 and 200 < hi < 300
    assert parsing.length_window([]) == (3, 1000)


def test_distinct_n():
    assert parsing.distinct_n(["a b", "a b"], 1) == 0.5
    assert parsing.distinct_n(["a b c"], 2) == 1.0
