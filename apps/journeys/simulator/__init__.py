"""What would happen to this contact, now: "Simulate" on a journey.

Given a contact (saved, or only described) and an event, the simulator reports whether the
trigger matches, whether the contact is in the entry segment, what the re-entry rule and the
holdout draw say, and then walks the steps as the engine would — branch decisions, the
split's variant, waits in words, and for every send step the decision the send gate would
give NOW, for 25 steps at most. Where the path divides (a condition, a split, a wait until
an event, a wait that may be missed) every other way is followed too (simulator/follow.py).

Each step is run by its kind's spec, the engine's own logic, with a dry context
(simulator/dry.py). It sends nothing and writes nothing: messages are unsaved
OutboundMessage objects handed to the gate's checks, a described contact is an unsaved
Contact.
"""

from apps.journeys.simulator.described import ContactDescription
from apps.journeys.simulator.follow import Fork, SimulatedStep
from apps.journeys.simulator.walk import EntryCheck, Simulation, journey_simulate

__all__ = [
    "ContactDescription",
    "EntryCheck",
    "Fork",
    "SimulatedStep",
    "Simulation",
    "journey_simulate",
]
