"""The refusal of configuration data (a service-level policy, shifts, holidays): it names the bad key."""


class PolicyError(ValueError):
    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
