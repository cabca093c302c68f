"""Sensor data between the simulation and its consumers: detector readings and bins, health, cameras."""
