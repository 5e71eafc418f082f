// Decode a BlurHash placeholder into a small canvas (no library: the format is simple).

const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

function base83(text) {
  let value = 0;
  for (const char of text) {
    const digit = DIGITS.indexOf(char);
    if (digit < 0) throw new Error("not a blurhash");
    value = value * 83 + digit;
  }
  return value;
}

function toLinear(channel) {
  const v = channel / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

function toSrgb(linear) {
  const v = Math.max(0, Math.min(1, linear));
  return Math.round((v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055) * 255);
}

function signedPow(value, exponent) {
  return Math.sign(value) * Math.abs(value) ** exponent;
}

/**
 * The pixels of a blurhash.
 * @param {string} hash
 * @param {number} width
 * @param {number} height
 * @returns {Uint8ClampedArray} RGBA
 */
export function decode(hash, width, height) {
  if (!hash || hash.length < 6) throw new Error("not a blurhash");
  const size = base83(hash[0]);
  const nx = (size % 9) + 1;
  const ny = Math.floor(size / 9) + 1;
  if (hash.length !== 4 + 2 * nx * ny) throw new Error("not a blurhash");
  const maximum = (base83(hash[1]) + 1) / 166;
  const colors = [];
  const dc = base83(hash.slice(2, 6));
  colors.push([toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]);
  for (let i = 1; i < nx * ny; i += 1) {
    const value = base83(hash.slice(4 + i * 2, 6 + i * 2));
    const quant = [Math.floor(value / (19 * 19)), Math.floor(value / 19) % 19, value % 19];
    colors.push(quant.map((q) => signedPow((q - 9) / 9, 2) * maximum));
  }
  const pixels = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let j = 0; j < ny; j += 1) {
        for (let i = 0; i < nx; i += 1) {
          const basis = Math.cos((Math.PI * x * i) / width) * Math.cos((Math.PI * y * j) / height);
          const color = colors[i + j * nx];
          r += color[0] * basis;
          g += color[1] * basis;
          b += color[2] * basis;
        }
      }
      const at = 4 * (x + y * width);
      pixels[at] = toSrgb(r);
      pixels[at + 1] = toSrgb(g);
      pixels[at + 2] = toSrgb(b);
      pixels[at + 3] = 255;
    }
  }
  return pixels;
}

/**
 * A canvas painted with the placeholder, or null when the hash cannot be read.
 * @param {string} hash
 * @param {number} aspect width / height of the media
 */
export function placeholderCanvas(hash, aspect) {
  const width = 32;
  const height = Math.max(1, Math.round(width / (aspect || 1)));
  try {
    const pixels = decode(hash, width, height);
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.className = "placeholder";
    canvas.setAttribute("aria-hidden", "true");
    canvas.getContext("2d").putImageData(new ImageData(pixels, width, height), 0, 0);
    return canvas;
  } catch {
    return null;
  }
}
