"""`make demo` plays the sample data through every door and accounts for every record."""

from __future__ import annotations

from sandbox.demo import Row, run


def test_the_demo_delivers_and_explains_every_sample_record() -> None:
    rows = run()
    assert [(row.function, row.door, row.delivered, row.rejected, row.retrying) for row in rows] == [
        ("appmetrica_events", "S3 file", 2, 1, 0),
        ("appmetrica_events", "SQS message", 1, 1, 0),
        ("appmetrica_events", "HTTPS (202)", 1, 1, 0),
        ("appmetrica_profiles", "S3 file", 3, 0, 0),
        ("appmetrica_profiles", "SQS message", 1, 1, 0),
        ("appmetrica_profiles", "HTTPS (202)", 1, 1, 0),
        ("appmetrica_profiles", "S3 file (mapping crm)", 2, 1, 0),
        ("appmetrica_profiles", "SQS message (mapping crm)", 1, 1, 0),
        ("appmetrica_profiles", "HTTPS (202) (mapping crm)", 1, 1, 0),
        ("appmetrica_revenue", "S3 file", 2, 1, 0),
        ("appmetrica_revenue", "SQS message", 1, 1, 0),
        ("appmetrica_revenue", "HTTPS (202)", 1, 1, 0),
        ("appmetrica_revenue", "S3 file (mapping payments)", 2, 1, 0),
        ("appmetrica_revenue", "SQS message (mapping payments)", 1, 1, 0),
        ("appmetrica_revenue", "HTTPS (202) (mapping payments)", 1, 1, 0),
        ("appmetrica_ad_revenue", "S3 file", 2, 1, 0),
        ("appmetrica_ad_revenue", "SQS message", 1, 1, 0),
        ("appmetrica_ad_revenue", "HTTPS (202)", 1, 1, 0),
        ("appmetrica_ecommerce", "S3 file", 2, 1, 0),
        ("appmetrica_ecommerce", "SQS message", 1, 1, 0),
        ("appmetrica_ecommerce", "HTTPS (202)", 1, 1, 0),
        ("altcraft_profile_import", "S3 file", 2, 1, 0),
        ("altcraft_profile_import", "SQS message", 1, 1, 0),
        ("altcraft_profile_import", "HTTPS (202)", 1, 1, 0),
        ("altcraft_profile_import", "S3 file (mapping crm)", 2, 1, 0),
        ("altcraft_profile_import", "SQS message (mapping crm)", 1, 1, 0),
        ("altcraft_profile_import", "HTTPS (202) (mapping crm)", 1, 1, 0),
        ("altcraft_profile_update", "S3 file", 2, 0, 0),
        ("altcraft_profile_update", "SQS message", 1, 1, 0),
        ("altcraft_profile_update", "HTTPS (202)", 1, 1, 0),
        ("altcraft_import_trigger", "S3 file", 2, 1, 0),
        ("altcraft_import_trigger", "SQS message", 1, 1, 0),
        ("altcraft_import_trigger", "HTTPS (202)", 1, 1, 0),
    ]
    assert all(isinstance(row, Row) and row.report.startswith("s3://courier-sandbox-data/") for row in rows)
