/**
 * A tiny hash router: `#/board`, `#/forms`, … The route is reactive state; links are
 * plain `href="#/forms"` anchors, so the back button and reloads work as usual.
 */
import { hashFor, parseHash, type Page, type Route } from "./nav.ts";

export class Router {
  route = $state<Route>(parseHash(typeof location === "undefined" ? "" : location.hash));

  readonly #onHashChange = (): void => {
    this.route = parseHash(location.hash);
  };

  start(): () => void {
    window.addEventListener("hashchange", this.#onHashChange);
    this.#onHashChange();
    return () => window.removeEventListener("hashchange", this.#onHashChange);
  }

  go(page: Page, rest = ""): void {
    const hash = hashFor(page, rest);
    if (location.hash === hash) this.#onHashChange();
    else location.hash = hash;
  }
}

export const router = new Router();
