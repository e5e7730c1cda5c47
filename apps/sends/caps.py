"""The frequency caps Cue starts with; admins may change them (history is kept)."""

DEFAULT_CAPS = [
    # name, category, window hours, max, state
    ("Marketing SMS: 1 a day", "marketing", 24, 1, ""),
    ("Marketing SMS: 3 a week", "marketing", 168, 3, ""),
    # Fla. Stat. §501.059(8)(a), Okla. Stat. tit. 15 §775C.4 and Md. Code, Com. Law
    # §14-4502: no more than three commercial messages on the same subject in 24 hours,
    # whoever sends them. Kept equal to the caps in apps/sends/data/quiet_hours_rules.json.
    ("Florida: 3 a day", "marketing", 24, 3, "FL"),
    ("Oklahoma: 3 a day", "marketing", 24, 3, "OK"),
    ("Maryland: 3 a day", "marketing", 24, 3, "MD"),
]


def caps_defaults_ensure(frequency_cap_model) -> None:
    """Creates any default cap that is missing; never changes one an admin edited."""
    for name, category, hours, maximum, region in DEFAULT_CAPS:
        frequency_cap_model.objects.get_or_create(
            name=name,
            defaults={
                "channel": "sms",
                "category": category,
                "window_hours": hours,
                "max_messages": maximum,
                "region": region,
            },
        )
