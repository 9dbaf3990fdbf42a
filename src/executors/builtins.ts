// The built-in backends: each scheduler module registers its executor names when loaded.
import './local.js';
import './slurm.js';
