// Drawing Sky Hop on a canvas: reads the game and the match, changes neither.

import { FOX, ROCK_SIZE, COIN_RADIUS, WORLD, frozenFor, isFrozen } from "./rules.js";

const SKY = "#cfe8ff";
const GROUND = "#7cb66b";

function toScreen(height) {
  return WORLD.height - WORLD.ground - height;
}

function drawFox(ctx, game) {
  const blinking = game.t < game.hurtUntil && Math.floor(game.t * 10) % 2 === 0;
  if (blinking && !game.dead) return;
  const x = FOX.x - FOX.width / 2;
  const top = toScreen(game.y) - FOX.height;
  ctx.save();
  if (game.dead) {
    ctx.translate(FOX.x, toScreen(0) - FOX.width / 2);
    ctx.rotate(Math.PI / 2);
    ctx.translate(-FOX.x, -(toScreen(0) - FOX.width / 2));
  }
  ctx.fillStyle = "#e8772e";
  ctx.beginPath(); // the tail, behind
  ctx.moveTo(x, top + 18); ctx.lineTo(x - 14, top + 12); ctx.lineTo(x - 10, top + 26);
  ctx.lineTo(x, top + 30);
  ctx.fill();
  ctx.fillRect(x, top + 8, FOX.width, FOX.height - 14);
  const stride = game.y > 0 ? 0 : Math.floor(game.distance / 18) % 2 * 4; // running legs
  ctx.fillRect(x + 4 + stride, top + FOX.height - 6, 6, 6);
  ctx.fillRect(x + FOX.width - 10 - stride, top + FOX.height - 6, 6, 6);
  ctx.beginPath(); // ears
  ctx.moveTo(x + 4, top + 10); ctx.lineTo(x + 10, top); ctx.lineTo(x + 16, top + 10);
  ctx.moveTo(x + 18, top + 10); ctx.lineTo(x + 24, top); ctx.lineTo(x + 30, top + 10);
  ctx.fill();
  ctx.fillStyle = "#fff";
  ctx.fillRect(x + 20, top + 22, FOX.width - 20, 10);
  ctx.fillStyle = "#222";
  ctx.fillRect(x + 24, top + 14, 4, 4);
  ctx.restore();
  if (isFrozen(game)) {
    ctx.fillStyle = "rgba(120, 200, 255, 0.55)";
    ctx.strokeStyle = "#5fb4ff";
    ctx.lineWidth = 2;
    ctx.fillRect(x - 6, top - 6, FOX.width + 12, FOX.height + 12);
    ctx.strokeRect(x - 6, top - 6, FOX.width + 12, FOX.height + 12);
    ctx.fillStyle = "#0b4f8a";
    ctx.font = "bold 14px sans-serif";
    ctx.textAlign = "center";
    ctx.fillText(`FROZEN ${frozenFor(game).toFixed(1)} s`, FOX.x, top - 12);
  }
}

function drawThing(ctx, thing) {
  if (thing.kind === "rock") {
    ctx.fillStyle = "#6b6b6b";
    ctx.beginPath();
    ctx.moveTo(thing.x - ROCK_SIZE / 2, toScreen(0));
    ctx.lineTo(thing.x, toScreen(ROCK_SIZE));
    ctx.lineTo(thing.x + ROCK_SIZE / 2, toScreen(0));
    ctx.fill();
    return;
  }
  ctx.fillStyle = thing.kind === "star" ? "#ffcf00" : "#f5b400";
  ctx.beginPath();
  if (thing.kind === "star") {
    for (let i = 0; i < 10; i += 1) {
      const r = i % 2 === 0 ? COIN_RADIUS + 3 : COIN_RADIUS / 2;
      const a = (Math.PI / 5) * i - Math.PI / 2;
      ctx.lineTo(thing.x + r * Math.cos(a), toScreen(thing.y) + r * Math.sin(a));
    }
  } else {
    ctx.arc(thing.x, toScreen(thing.y), COIN_RADIUS, 0, Math.PI * 2);
  }
  ctx.fill();
}

function drawBanner(ctx, text) {
  ctx.fillStyle = "rgba(0, 0, 0, 0.45)";
  ctx.fillRect(0, WORLD.height / 2 - 28, WORLD.width, 48);
  ctx.fillStyle = "#fff";
  ctx.font = "bold 24px sans-serif";
  ctx.textAlign = "center";
  ctx.fillText(text, WORLD.width / 2, WORLD.height / 2 + 4);
}

/** What the canvas says over the game, if anything. */
function banner(game, match) {
  if (match.phase === "idle") return "Press “Find an opponent”";
  if (match.phase === "waiting") return "Waiting for an opponent…";
  if (match.result) return { WIN: "You win!", LOSE: "You lose", DRAW: "Draw" }[match.result] || match.result;
  if (game.dead) return "You fell: waiting for the result…";
  if (game.t < 0) return game.t < -0.5 ? "Ready…" : "Go!";
  return "";
}

/** Draw one frame. */
export function draw(ctx, game, match) {
  ctx.fillStyle = SKY;
  ctx.fillRect(0, 0, WORLD.width, WORLD.height);
  ctx.fillStyle = GROUND;
  ctx.fillRect(0, toScreen(0), WORLD.width, WORLD.ground);
  ctx.fillStyle = "#5d9a4d"; // stripes that scroll, so the ground moves
  for (let x = -(game.distance % 40); x < WORLD.width; x += 40) {
    ctx.fillRect(x, toScreen(0) + 6, 20, 4);
  }
  for (const thing of game.things) drawThing(ctx, thing);
  drawFox(ctx, game);
  ctx.fillStyle = "#c62828";
  ctx.font = "18px sans-serif";
  ctx.textAlign = "left";
  ctx.fillText("♥".repeat(Math.max(0, game.hearts)), 10, 24);
  const text = banner(game, match);
  if (text) drawBanner(ctx, text);
}
