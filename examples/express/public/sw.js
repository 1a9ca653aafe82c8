// The site's service worker: Herald's classic-script build adds its push,
// click, close and subscription-change handlers beside the site's own.
importScripts('/herald-sw.js');
self.Herald.installHerald(self, { apiBase: '/herald' });
