"""The clerk's panel (叫号员工作台): sign in at a window, call, serve, finish, update slips."""
