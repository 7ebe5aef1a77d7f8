"""The linked desks (联动调处): their opening hours, the working-day calendar, session booking."""
