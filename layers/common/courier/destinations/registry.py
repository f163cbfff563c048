"""Every endpoint Courier delivers to, in one list. What repeats per endpoint is made from it, not copied:
template.yaml's queue, dead-letter queue, function, bucket notification, queue policy and outputs, and README's
function and record-format tables (`python -m infra.generate`; a test checks both are up to date), the sandbox's
queues and routes (read from the template), the demo and the template tests. Handlers import their own
destination, not this list, so that a function loads only its own code."""

from __future__ import annotations

from dataclasses import dataclass

from courier.destinations.altcraft.profiles import ALTCRAFT_PROFILE_IMPORT, ALTCRAFT_PROFILE_UPDATE
from courier.destinations.altcraft.triggers import ALTCRAFT_IMPORT_TRIGGER
from courier.destinations.altcraft.uploads import (
    ALTCRAFT_GOAL_REGISTER,
    ALTCRAFT_PROFILE_ADD,
    ALTCRAFT_PROFILE_DELETE,
    ALTCRAFT_SUBSCRIPTION_SET,
    ALTCRAFT_WORKFLOW_START,
)
from courier.destinations.appmetrica.ad_revenue import APPMETRICA_AD_REVENUE
from courier.destinations.appmetrica.ecommerce import APPMETRICA_ECOMMERCE
from courier.destinations.appmetrica.events import APPMETRICA_EVENTS
from courier.destinations.appmetrica.profiles import APPMETRICA_PROFILES
from courier.destinations.appmetrica.revenue import APPMETRICA_REVENUE
from courier.model import Api, Destination


@dataclass(frozen=True)
class Endpoint:
    destination: Destination
    settings: tuple[tuple[str, str], ...] = ()  # the endpoint's own, beside its API's

    @property
    def name(self) -> str:
        return self.destination.name

    @property
    def resource(self) -> str:
        """The prefix of its resources' logical ids: appmetrica_ad_revenue → AppMetricaAdRevenue."""
        return "".join("AppMetrica" if word == "appmetrica" else word.capitalize() for word in self.name.split("_"))

    @property
    def api(self) -> Api:
        if self.destination.api is None:
            raise ValueError(f"{self.name} names no API")
        return self.destination.api

    @property
    def environment(self) -> tuple[tuple[str, str], ...]:
        return (*self.api.environment, *self.settings)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(APPMETRICA_EVENTS),
    Endpoint(
        APPMETRICA_PROFILES,
        (
            ("APPMETRICA_TELEGRAM_STRIP_AT", "AppMetricaTelegramStripAt"),
            ("APPMETRICA_TELEGRAM_SDK_NAMES", "AppMetricaTelegramSdkNames"),
        ),
    ),
    Endpoint(APPMETRICA_REVENUE),
    Endpoint(APPMETRICA_AD_REVENUE),
    Endpoint(APPMETRICA_ECOMMERCE),
    Endpoint(ALTCRAFT_PROFILE_IMPORT),
    Endpoint(ALTCRAFT_PROFILE_UPDATE),
    Endpoint(ALTCRAFT_IMPORT_TRIGGER),
    Endpoint(ALTCRAFT_PROFILE_ADD),
    Endpoint(ALTCRAFT_WORKFLOW_START),
    Endpoint(ALTCRAFT_PROFILE_DELETE),
    Endpoint(ALTCRAFT_SUBSCRIPTION_SET),
    Endpoint(ALTCRAFT_GOAL_REGISTER),
)
