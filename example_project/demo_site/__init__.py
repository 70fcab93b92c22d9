"""The pages of the example site: home, log in and out, account, change email."""
