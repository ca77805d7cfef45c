"""What every feature uses: incoming messages, replies and their words, the context, the feature
registry, parsing, notifying, and the router that serves the features."""
