print("d2l-cli: not yet")
