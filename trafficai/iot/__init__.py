"""The connected-device network: the only package that imports the MQTT client."""
