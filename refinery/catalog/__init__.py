"""Every stage of the platform, declared once per flow (name, inputs, output folder, marker, Dagster asset,
configuration section). The flows run them, `assets/` turns each into an asset, the sensors, the CLI and the
checks read their markers through them. Imports no flow, so each flow can read another's declarations."""
