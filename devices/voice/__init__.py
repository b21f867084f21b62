"""Voice calling: announcement texts (`text`), WAV rendering with pyttsx3 + espeak-ng
(`synth`), and the announcement queue a speaker's agent runs (`queue`).

Use from an agent:

    from devices.voice.synth import Synthesizer
    from devices.voice.queue import Announcer, AplayPlayer, SynthRenderer

    synth = Synthesizer(rate=150, english=True, chime=True, repeat=2)   # voice: auto
    ann = Announcer(SynthRenderer(synth), AplayPlayer(device=None),
                    zone_map={"1F": [1, 2, 3], "2F": [10, 11]}, zones=["1F"],
                    max_pending=5).start()
    ann.call("A001", 3)                 # on each call event (any thread)
    ann.call("A001", 3, recall=True)    # on a recall
    ann.stop()

Needs Debian espeak-ng + libespeak-ng1 (pyttsx3 loads it via ctypes) and alsa-utils (aplay).
"""
