"""The onboard application: executive, services, modes, FDIR, storage, subsystems."""
