"""trafficai: open traffic-signal operations on Eclipse SUMO."""
__version__ = "0.1.0"
