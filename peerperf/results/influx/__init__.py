"""The InfluxDB relay: every accepted datapoint and run event as InfluxDB points, batched, never blocking a test.

`relay_settings` (no dependencies) is imported by the run's configuration; `relay`, `lines` and
`writers` import influxdb-client, only where a relay is built.
"""
