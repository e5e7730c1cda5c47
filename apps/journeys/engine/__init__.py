"""The engine that moves enrollments through their journeys."""
