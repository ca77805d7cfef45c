"""Feature handlers: `core` is what every feature uses, `common` the helpers several share,
and every other package is one feature, with its words (locales) and data beside it.
handlers.features lists the features the router serves."""
