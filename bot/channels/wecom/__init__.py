"""The WeCom (企业微信) adapter: a self-built application's callback in, its API out."""
