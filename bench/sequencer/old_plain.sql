\set u random(1, 1000)
SELECT old_append('w' || :u, false, false);
