"""Importing a group's history: WhatsApp chat exports and coordinators' spreadsheets."""
