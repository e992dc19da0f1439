"""Answering one question, from any surface: gate, conversation, model stream, reply, ending,
ledger. `answerer.Answerer` runs the stages; the other modules are the stages' pure parts."""
