from lynsms.providers.simulator.adapter import MAGIC_NUMBERS, SimulatorProvider

__all__ = ["MAGIC_NUMBERS", "SimulatorProvider"]
