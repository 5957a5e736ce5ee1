// The landing page: three links and the language switcher; text comes from the common dictionary.
import { applyI18n, initI18n, languageSwitcher } from "./common/i18n.js";

await initI18n(null);
applyI18n(document);
document.getElementById("tools").append(languageSwitcher());
