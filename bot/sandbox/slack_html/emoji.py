"""Emoji shortcodes Slack shows as pictures: a small table of the common ones (unknown ones stay ``:name:``)."""

from __future__ import annotations

EMOJI: dict[str, str] = {
    # circles, squares and marks
    "large_green_circle": "🟢", "large_yellow_circle": "🟡", "large_orange_circle": "🟠", "red_circle": "🔴",
    "large_blue_circle": "🔵", "large_purple_circle": "🟣", "white_circle": "⚪", "black_circle": "⚫",
    "large_green_square": "🟩", "large_yellow_square": "🟨", "large_orange_square": "🟧",
    "large_red_square": "🟥", "white_large_square": "⬜", "black_large_square": "⬛",
    "white_check_mark": "✅", "heavy_check_mark": "✔️", "ballot_box_with_check": "☑️", "ballot_box_with_ballot": "🗳️", "stethoscope": "🩺", "zzz": "💤", "x": "❌",
    "heavy_multiplication_x": "✖️", "negative_squared_cross_mark": "❎", "warning": "⚠️", "no_entry": "⛔",
    "no_entry_sign": "🚫", "exclamation": "❗", "heavy_exclamation_mark": "❗", "grey_exclamation": "❕",
    "question": "❓", "grey_question": "❔", "bangbang": "‼️", "heavy_plus_sign": "➕",
    "heavy_minus_sign": "➖", "arrow_right": "➡️", "arrow_left": "⬅️", "arrow_up": "⬆️", "arrow_down": "⬇️",
    "arrows_counterclockwise": "🔄", "repeat": "🔁", "information_source": "ℹ️", "new": "🆕",
    "100": "💯", "sos": "🆘", "ok": "🆗", "star": "⭐", "star2": "🌟", "sparkles": "✨", "zap": "⚡",
    "fire": "🔥", "boom": "💥", "dart": "🎯", "checkered_flag": "🏁", "triangular_flag_on_post": "🚩",
    "construction": "🚧", "rotating_light": "🚨", "stop_sign": "🛑", "traffic_light": "🚥",
    "vertical_traffic_light": "🚦",
    # objects
    "shield": "🛡️", "lock": "🔒", "unlock": "🔓", "key": "🔑", "bell": "🔔", "no_bell": "🔕",
    "alarm_clock": "⏰", "hourglass": "⌛", "hourglass_flowing_sand": "⏳", "stopwatch": "⏱️",
    "timer_clock": "⏲️", "clock1": "🕐", "calendar": "📆", "date": "📅", "spiral_calendar_pad": "🗓️",
    "page_facing_up": "📄", "page_with_curl": "📃", "memo": "📝", "pencil": "📝", "pencil2": "✏️",
    "clipboard": "📋", "pushpin": "📌", "round_pushpin": "📍", "paperclip": "📎", "link": "🔗",
    "bookmark": "🔖", "books": "📚", "book": "📖", "file_folder": "📁", "open_file_folder": "📂",
    "card_index_dividers": "🗂️", "chart_with_upwards_trend": "📈", "chart_with_downwards_trend": "📉",
    "bar_chart": "📊", "mag": "🔍", "mag_right": "🔎", "bulb": "💡", "gear": "⚙️", "wrench": "🔧",
    "hammer": "🔨", "hammer_and_wrench": "🛠️", "package": "📦", "inbox_tray": "📥", "outbox_tray": "📤",
    "email": "📧", "envelope": "✉️", "incoming_envelope": "📨", "mailbox": "📫", "speech_balloon": "💬",
    "thought_balloon": "💭", "loudspeaker": "📢", "mega": "📣", "rocket": "🚀", "airplane": "✈️",
    "ship": "🚢", "robot_face": "🤖", "computer": "💻", "desktop_computer": "🖥️", "iphone": "📱",
    "globe_with_meridians": "🌐", "earth_africa": "🌍", "test_tube": "🧪", "microscope": "🔬",
    "scales": "⚖️", "trophy": "🏆", "medal": "🏅", "gift": "🎁", "tada": "🎉", "confetti_ball": "🎊",
    "balloon": "🎈", "eyes": "👀", "eye": "👁️", "moneybag": "💰", "hourglass_done": "⌛",
    # people and faces
    "wave": "👋", "thumbsup": "👍", "+1": "👍", "thumbsdown": "👎", "-1": "👎", "clap": "👏", "pray": "🙏",
    "raised_hands": "🙌", "muscle": "💪", "point_right": "👉", "point_left": "👈", "point_up": "☝️",
    "point_down": "👇", "ok_hand": "👌", "handshake": "🤝", "smile": "😄", "smiley": "😃", "grinning": "😀",
    "slightly_smiling_face": "🙂", "wink": "😉", "joy": "😂", "thinking_face": "🤔", "neutral_face": "😐",
    "confused": "😕", "worried": "😟", "cry": "😢", "scream": "😱", "sweat_smile": "😅", "sunglasses": "😎",
    "heart": "❤️", "broken_heart": "💔", "green_heart": "💚", "blue_heart": "💙", "skull": "💀",
    "see_no_evil": "🙈", "bust_in_silhouette": "👤", "busts_in_silhouette": "👥",
    # nature
    "sunny": "☀️", "cloud": "☁️", "umbrella": "☔", "snowflake": "❄️", "rainbow": "🌈", "seedling": "🌱",
    "herb": "🌿", "fallen_leaf": "🍂", "bug": "🐛", "turtle": "🐢", "snail": "🐌", "rabbit": "🐇",
    "coffee": "☕", "pizza": "🍕", "cake": "🍰",
}

SKIN_TONE = "skin-tone-"


def emoji(name: str) -> str | None:
    """The Unicode picture for a shortcode (without colons), or None when the table does not know it."""
    return EMOJI.get(name.lower())
