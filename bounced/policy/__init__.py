"""Rules over state -> decisions. Pure: documents, counter windows and `now` in, decisions out."""
