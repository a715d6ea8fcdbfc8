// The rules of Sky Hop, the battle game: plain data and functions, no DOM, no network and
// no clock (the caller says how much time passed), so a test can play them exactly.
//
// A fox runs along the ground. Coins float by in the air: jump to catch them (1 point,
// a star is 3). Rocks roll along the ground: jump over them, or lose one of three hearts.
// The world speeds up as time goes on. With no hearts left the fox falls: that is the
// player's death (the page sends "die"). Past ATTACK_MIN_SCORE points a player may attack,
// which freezes the opponent for FREEZE_SECONDS: a frozen fox cannot jump.
//
// Distances are in world units (the world is WORLD.width x WORLD.height), heights are
// measured up from the ground, times in seconds.

export const WORLD = { width: 480, height: 270, ground: 40 };
export const FOX = { x: 80, width: 34, height: 40 };
export const GRAVITY = 2400;
export const JUMP_SPEED = 900;
export const START_SPEED = 220;
export const MAX_SPEED = 430;
export const SPEED_UP = 3; // units per second, every second
export const READY_SECONDS = 1.5; // "Ready… Go!" before the world moves
export const HEARTS = 3;
export const HURT_SECONDS = 1.2; // no second hit while the fox blinks
export const FREEZE_SECONDS = 3;
export const ATTACK_MIN_SCORE = 10; // an attack needs more points than this
export const ATTACK_COOLDOWN_SECONDS = 8;
export const COIN_RADIUS = 10;
export const ROCK_SIZE = 26;
const SPAWN_GAP = [0.5, 1.0]; // seconds between two things coming in
const ROCK_CHANCE = 0.3;
const STAR_CHANCE = 0.1;
const COIN_HEIGHT = [70, 150]; // out of reach of a fox standing still (40 high)

/** A small seeded random number generator (mulberry32): the same seed, the same game. */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A new game, not yet begun: time starts at -READY_SECONDS. */
export function newGame({ seed = 1 } = {}) {
  return {
    seed, rng: random(seed), t: -READY_SECONDS, speed: START_SPEED, distance: 0,
    y: 0, vy: 0, hearts: HEARTS, hurtUntil: -Infinity, frozenUntil: -Infinity,
    score: 0, jumps: 0, blockedJumps: 0, attackReadyAt: 0, dead: false,
    things: [], nextId: 1, nextSpawnAt: 0,
  };
}

export function onGround(game) {
  return game.y <= 0 && game.vy <= 0;
}

export function isFrozen(game) {
  return game.t < game.frozenUntil;
}

/**
 * The player presses jump. Returns what happened: "jumped", "frozen" (a frozen fox
 * cannot jump: counted in blockedJumps), or "" (in the air already, dead, not begun).
 */
export function jump(game) {
  if (game.dead || game.t < 0) return "";
  if (isFrozen(game)) {
    game.blockedJumps += 1;
    return "frozen";
  }
  if (!onGround(game)) return "";
  game.vy = JUMP_SPEED;
  game.jumps += 1;
  return "jumped";
}

/** The opponent's attack arrived: frozen for FREEZE_SECONDS from now (not stacked). */
export function freeze(game) {
  game.frozenUntil = Math.max(game.frozenUntil, Math.max(game.t, 0) + FREEZE_SECONDS);
}

/** Seconds until the fox thaws, 0 when it is not frozen. */
export function frozenFor(game) {
  return Math.max(0, game.frozenUntil - game.t);
}

/** Whether this player may attack now: alive, past ATTACK_MIN_SCORE, not cooling down. */
export function canAttack(game) {
  return !game.dead && game.t >= 0 && game.score > ATTACK_MIN_SCORE && game.t >= game.attackReadyAt;
}

/** Spend the attack (the page sends "attack"); false if not allowed now. */
export function attack(game) {
  if (!canAttack(game)) return false;
  game.attackReadyAt = game.t + ATTACK_COOLDOWN_SECONDS;
  return true;
}

function spawn(game) {
  const roll = game.rng();
  const x = WORLD.width + 20;
  const id = game.nextId++;
  if (roll < ROCK_CHANCE) {
    game.things.push({ id, kind: "rock", x, y: 0 });
  } else {
    const [low, high] = COIN_HEIGHT;
    const kind = roll < ROCK_CHANCE + STAR_CHANCE ? "star" : "coin";
    game.things.push({ id, kind, x, y: low + game.rng() * (high - low) });
  }
  const [shortest, longest] = SPAWN_GAP;
  game.nextSpawnAt = game.t + shortest + game.rng() * (longest - shortest);
}

function touches(game, thing) {
  const left = FOX.x - FOX.width / 2;
  const right = FOX.x + FOX.width / 2;
  if (thing.kind === "rock") {
    const half = ROCK_SIZE / 2 - 4; // a little forgiving at the edges
    return thing.x + half > left && thing.x - half < right && game.y < ROCK_SIZE - 6;
  }
  const nearestX = Math.min(Math.max(thing.x, left), right);
  const nearestY = Math.min(Math.max(thing.y, game.y), game.y + FOX.height);
  return (thing.x - nearestX) ** 2 + (thing.y - nearestY) ** 2 < COIN_RADIUS ** 2;
}

/**
 * Move the world on by `dt` seconds. Returns the events that happened, in order:
 * {type: "score", score}, {type: "hit", hearts}, {type: "died", score}.
 */
export function step(game, dt) {
  const events = [];
  if (game.dead) return events;
  const before = game.t;
  game.t += dt;
  if (game.t < 0) return events;
  const moving = Math.min(dt, game.t - Math.max(before, 0));
  game.speed = Math.min(MAX_SPEED, game.speed + SPEED_UP * moving);
  game.distance += game.speed * moving;
  game.vy -= GRAVITY * moving;
  game.y = Math.max(0, game.y + game.vy * moving);
  if (game.y === 0 && game.vy < 0) game.vy = 0;
  while (game.t >= game.nextSpawnAt) spawn(game);
  for (const thing of game.things) thing.x -= game.speed * moving;
  const kept = [];
  for (const thing of game.things) {
    if (thing.x < -40) continue;
    if (!touches(game, thing)) {
      kept.push(thing);
    } else if (thing.kind === "rock") {
      kept.push(thing);
      if (game.t >= game.hurtUntil) {
        game.hearts -= 1;
        game.hurtUntil = game.t + HURT_SECONDS;
        events.push({ type: "hit", hearts: game.hearts });
      }
    } else {
      game.score += thing.kind === "star" ? 3 : 1;
      events.push({ type: "score", score: game.score });
    }
  }
  game.things = kept;
  if (game.hearts <= 0) {
    game.dead = true;
    events.push({ type: "died", score: game.score });
  }
  return events;
}

/** A copy of the game to look ahead in: nothing new comes in, no heart lost so far. */
function lookahead(game) {
  return { ...game, things: game.things.map((thing) => ({ ...thing })), nextSpawnAt: Infinity,
    hurtUntil: -Infinity };
}

/** Whether jumping now lands safely: no rock hit in the air, none under the fox on landing. */
function safeJump(game) {
  const future = lookahead(game);
  jump(future);
  for (let i = 0; i < 120 && !onGround(future); i += 1) {
    if (step(future, 1 / 60).some((event) => event.type === "hit")) return false;
  }
  const landingClear = ROCK_SIZE + game.speed * 0.06; // too close to jump over on landing
  return !future.things.some((thing) => thing.kind === "rock" &&
    thing.x - FOX.x > -ROCK_SIZE && thing.x - FOX.x < landingClear);
}

/**
 * The autopilot's choice: whether to jump now, to clear the next rock or catch the next
 * coin (only when that jump lands safely). It plays well, not perfectly; the page offers
 * it for demos and tests.
 */
export function autopilotWantsJump(game) {
  if (!onGround(game) || game.dead || game.t < 0) return false;
  const ahead = game.things
    .filter((thing) => thing.x + 12 >= FOX.x - FOX.width / 2)
    .sort((a, b) => a.x - b.x);
  const rock = ahead.find((thing) => thing.kind === "rock");
  // Take off so that the top of the jump is over the rock.
  if (rock && rock.x - FOX.x <= game.speed * (JUMP_SPEED / GRAVITY) * 0.85) return true;
  const coin = ahead.find((thing) => thing.kind !== "rock" && thing.x >= FOX.x - FOX.width / 2);
  if (!coin) return false;
  // Reach the coin's height as it reaches the fox: rising time to height h.
  const h = Math.max(0, coin.y - FOX.height / 2);
  const rise = (JUMP_SPEED - Math.sqrt(Math.max(0, JUMP_SPEED ** 2 - 2 * GRAVITY * h))) / GRAVITY;
  return coin.x - FOX.x <= game.speed * rise + COIN_RADIUS && safeJump(game);
}
