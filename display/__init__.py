"""The call screens: the hall screen (综合屏) and the window screens (窗口屏), served by the hub."""
