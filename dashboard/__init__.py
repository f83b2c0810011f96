"""The supervisor's dashboard: service-standard figures by day and by week, charts, CSV exports, live updates."""
