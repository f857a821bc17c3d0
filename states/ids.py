"""Case ids: time-ordered and URL-safe, from a time and random bits the caller supplies."""

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base32, lower case


def case_id(millis: int, random_bits: int) -> str:
    """48 bits of milliseconds since the epoch, then 80 random bits: 26 characters that sort by time."""
    value = ((millis & (2**48 - 1)) << 80) | (random_bits & (2**80 - 1))
    return "".join(ALPHABET[(value >> shift) & 31] for shift in range(125, -5, -5))
