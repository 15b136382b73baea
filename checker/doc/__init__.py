"""`migcheck doc`: a spec's locking-rules document, as Markdown or HTML."""
