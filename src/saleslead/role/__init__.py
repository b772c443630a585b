"""The seat in the fleet: lanes, handoffs, the weekly cadence."""
