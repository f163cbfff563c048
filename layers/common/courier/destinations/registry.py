"""Every endpoint Courier delivers to, in one list. What repeats per endpoint is made from it, not copied:
template.yaml's queue, dead-letter queue, function, bucket notification, queue policy and outputs, and README's
function and record-format tables (`python -m sandbox.generate`; a test checks both are up to date), the sandbox's
queues and routes (read from the template), the demo and the template tests. Handlers import their own
destination, not this list, so that a function loads only its own code."""

from __future__ import annotations

from dataclasses import dataclass

from courier.destinations.altcraft.profiles import ALTCRAFT_PROFILE_IMPORT, ALTCRAFT_PROFILE_UPDATE
from courier.destinations.altcraft.triggers import ALTCRAFT_IMPORT_TRIGGER
from courier.destinations.appmetrica.ad_revenue import APPMETRICA_AD_REVENUE
from courier.destinations.appmetrica.ecommerce import APPMETRICA_ECOMMERCE
from courier.destinations.appmetrica.events import APPMETRICA_EVENTS
from courier.destinations.appmetrica.profiles import APPMETRICA_PROFILES
from courier.destinations.appmetrica.revenue import APPMETRICA_REVENUE
from courier.model import Destination


@dataclass(frozen=True)
class Api:
    """What a function needs to reach one API: its settings (variable → the template's parameter) and its secret."""

    title: str
    environment: tuple[tuple[str, str], ...]
    secret_parameter: str  # the template parameter naming the Secrets Manager secret the function may read


APPMETRICA = Api(
    "AppMetrica Post API",
    (
        ("APPMETRICA_API_URL", "AppMetricaApiUrl"),
        ("APPMETRICA_APPLICATION_ID", "AppMetricaApplicationId"),
        ("APPMETRICA_AT_LEAST_ONCE", "AppMetricaAtLeastOnce"),
        ("APPMETRICA_POST_API_KEY_SECRET", "AppMetricaPostApiKeySecretName"),
    ),
    "AppMetricaPostApiKeySecretName",
)
ALTCRAFT = Api(
    "Altcraft API",
    (
        ("ALTCRAFT_API_URL", "AltcraftApiUrl"),
        ("ALTCRAFT_API_TOKEN_SECRET", "AltcraftApiTokenSecretName"),
        ("ALTCRAFT_DB_ID", "AltcraftDbId"),
        ("ALTCRAFT_MATCHING", "AltcraftMatching"),
        ("ALTCRAFT_BATCH_SIZE", "AltcraftBatchSize"),
    ),
    "AltcraftApiTokenSecretName",
)


@dataclass(frozen=True)
class Endpoint:
    destination: Destination
    api: Api
    settings: tuple[tuple[str, str], ...] = ()  # the endpoint's own, beside its API's

    @property
    def name(self) -> str:
        return self.destination.name

    @property
    def resource(self) -> str:
        """The prefix of its resources' logical ids: appmetrica_ad_revenue → AppMetricaAdRevenue."""
        return "".join("AppMetrica" if word == "appmetrica" else word.capitalize() for word in self.name.split("_"))

    @property
    def environment(self) -> tuple[tuple[str, str], ...]:
        return (*self.api.environment, *self.settings)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(APPMETRICA_EVENTS, APPMETRICA),
    Endpoint(
        APPMETRICA_PROFILES,
        APPMETRICA,
        (
            ("APPMETRICA_TELEGRAM_STRIP_AT", "AppMetricaTelegramStripAt"),
            ("APPMETRICA_TELEGRAM_SDK_NAMES", "AppMetricaTelegramSdkNames"),
        ),
    ),
    Endpoint(APPMETRICA_REVENUE, APPMETRICA),
    Endpoint(APPMETRICA_AD_REVENUE, APPMETRICA),
    Endpoint(APPMETRICA_ECOMMERCE, APPMETRICA),
    Endpoint(ALTCRAFT_PROFILE_IMPORT, ALTCRAFT),
    Endpoint(ALTCRAFT_PROFILE_UPDATE, ALTCRAFT),
    Endpoint(ALTCRAFT_IMPORT_TRIGGER, ALTCRAFT),
)
