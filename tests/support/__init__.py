"""Test support shared by the test packages: fakes (a synthetic network on the replay backend) and
checkers (the safety monitor). Nothing here is part of trafficai itself."""
