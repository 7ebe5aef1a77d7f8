"""Cases: the state machine (workflow), its commands, the staff API and the deadline sweep."""
