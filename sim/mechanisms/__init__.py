"""One module per monthly process (docs/ODD.md, section 'Process overview and scheduling').

Each mechanism is a set of pure functions: arrays and parameters in, arrays out, with the one
random stream it may use passed in. The model's ``step()`` calls them in the documented order.
"""
