"""The two APIs Courier calls: the settings each needs, and its secret. Light on purpose: a function checks its
environment against its API's at cold start, before anything else loads."""

from __future__ import annotations

from courier.model import Api

APPMETRICA = Api(
    "AppMetrica Post API",
    (
        ("APPMETRICA_API_URL", "AppMetricaApiUrl"),
        ("APPMETRICA_APPLICATION_ID", "AppMetricaApplicationId"),
        ("APPMETRICA_AT_LEAST_ONCE", "AppMetricaAtLeastOnce"),
        ("APPMETRICA_POST_API_KEY_SECRET", "AppMetricaPostApiKeySecretName"),
    ),
    "APPMETRICA_POST_API_KEY",
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
    "ALTCRAFT_API_TOKEN",
    "AltcraftApiTokenSecretName",
)
