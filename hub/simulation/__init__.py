"""Simulated hall days: demand (arrivals, service times), a pure discrete-event day driven by
the queue engine, Erlang C, and the staffing advice built from them. Pure except where a
module says otherwise (reading a profile, reading the store's history)."""
